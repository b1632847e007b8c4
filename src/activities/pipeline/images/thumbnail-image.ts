/**
 * Stage activity `thumbnail-image`: a thumbnail of the item's image that fits in
 * {@link thumbnailBox}² pixels (aspect ratio kept, EXIF rotation applied, never enlarged), at
 * `<dataDir>/outputs/<pipeline>/<run>/thumbnails/<itemId>.jpg` (`.png` when the image has an
 * alpha channel, to keep it). The path depends only on the run and the item and the file is
 * written to a temporary name and renamed, so a retry rewrites the same complete file.
 * Adds `thumbnail: { path, width, height }` to the item's data.
 */
import fs from 'node:fs/promises';
import sharp from 'sharp';
import { writeAtomically } from '../../fs/atomic-write';
import { runItemFile } from '../run-outputs';
import { stageActivity } from '../stage-activity';
import { decodeOptions, decoding, imagePathOf, readImageFile } from './read-image';

/** Longest side of a thumbnail, in pixels. */
export const thumbnailBox = 320;

export const thumbnailImage = stageActivity(async (item, call) => {
  const image = await readImageFile(imagePathOf(item));
  const keepAlpha = image.metadata.hasAlpha === true;
  const out = runItemFile(call.pipeline, call.run, 'thumbnails', item.id, keepAlpha ? '.png' : '.jpg');
  const resized = sharp(image.data, decodeOptions)
    .autoOrient()
    .resize(thumbnailBox, thumbnailBox, { fit: 'inside', withoutEnlargement: true });
  const encoded = await decoding(image, () =>
    (keepAlpha ? resized.png({ compressionLevel: 9 }) : resized.jpeg({ quality: 82, mozjpeg: true })).toBuffer({
      resolveWithObject: true,
    }),
  );
  await writeAtomically(out, (tmp) => fs.writeFile(tmp, encoded.data));
  return { ...item.data, thumbnail: { path: out, width: encoded.info.width, height: encoded.info.height } };
});
