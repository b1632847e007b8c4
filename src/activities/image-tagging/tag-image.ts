/**
 * Stage activity `tag-image`: measures an image with sharp and tags it. Adds to the item's data
 * `bytes`, `pixels`, `width`, `height` (as displayed, EXIF rotation applied), `format`,
 * `dominant` (#rrggbb) and `tags` (see image-tags.ts). Reads only; safe to retry.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { stageActivity } from '../pipeline/stage-activity';
import { imageTags, luminance, type Rgb } from './image-tags';
import { sampleColours } from './sample-colours';
import { decodeOptions, decoding, type ImageFile, imagePathOf, imageStageOptions, readImageFile } from './read-image';

/** Colour and brightness are judged on a copy this small: a few thousand pixels describe the look. */
const sampleSize = 256;

interface Appearance {
  dominant: Rgb;
  meanLuminance: number;
  transparent: boolean;
}

/**
 * How the image looks: colours as seen on a white page (transparent parts show the page), and
 * whether any pixel is transparent (judged on every pixel: one transparent corner counts).
 */
async function appearance(image: ImageFile): Promise<Appearance> {
  const transparent = image.metadata.hasAlpha === true && !(await sharp(image.data, decodeOptions).stats()).isOpaque;
  const sample = await sharp(image.data, decodeOptions)
    .resize(sampleSize, sampleSize, { fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  // The sample is flattened sRGB: three channels, measured in one pass (what sharp's stats() gives, for less).
  const { mean, dominant } = sampleColours(sample.data, sample.info.channels);
  return { dominant, meanLuminance: luminance(mean), transparent };
}

/**
 * Looks of images seen lately, by the SHA-256 of their bytes: the same file under many names
 * (re-uploads, a manifest naming one file many times) is decoded once per worker process.
 */
const looks = new Map<string, Promise<Appearance>>();
const maxLooks = 1000;

/**
 * Concurrent calls for the same bytes share one decode. A failed decode is forgotten and not
 * shared: each caller then decodes for itself, so its error names its own file.
 */
async function cachedAppearance(image: ImageFile): Promise<Appearance> {
  const key = createHash('sha256').update(image.data).digest('hex');
  const known = looks.get(key);
  if (known) {
    try {
      return await known;
    } catch {
      // Decoded below, for this file's own error.
    }
  }
  const look = decoding(image, () => appearance(image));
  if (looks.size >= maxLooks) looks.delete(looks.keys().next().value!);
  looks.set(key, look);
  look.catch(() => looks.delete(key));
  return look;
}

export const tagImage = stageActivity(async (item) => {
  const image = await readImageFile(imagePathOf(item));
  const { metadata } = image;
  const { width, height } = metadata.autoOrient;
  const format = metadata.format;
  const look = await cachedAppearance(image);
  const hex = `#${[look.dominant.r, look.dominant.g, look.dominant.b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
  return {
    ...item.data,
    bytes: image.data.length,
    pixels: width * height,
    width,
    height,
    format,
    dominant: hex,
    tags: imageTags({ width, height, format, ...look }),
  };
}, imageStageOptions);
