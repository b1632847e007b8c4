/**
 * Stage activity `thumbnail-image`: a thumbnail of the item's image that fits in
 * {@link thumbnailBox}² pixels (aspect ratio kept, EXIF rotation applied, never enlarged), stored
 * at `outputs/<pipeline>/<run>/thumbnails/<itemId>.jpg` (`.png` when the image has an alpha
 * channel, to keep it): under `<dataDir>` on the local backend, in the bucket on S3. It is made in
 * the attempt's scratch folder and uploaded once to that key, which depends only on the run and
 * the item, so a retry on any host finds or writes the same complete object.
 * Adds `thumbnail: { uri, width, height }` to the item's data (and `path`, the same, on the local backend).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { withScratch } from '../../storage/scratch';
import { publishFile } from '../../storage/stage-files';
import { storage } from '../../storage/storage';
import { folderName, runOutputKey } from '../pipeline/run-outputs';
import { stageActivity } from '../pipeline/stage-activity';
import { decodeOptions, decoding, imagePathOf, imageStageOptions, readImageFile } from './read-image';

/** Longest side of a thumbnail, in pixels. */
export const thumbnailBox = 320;

export const thumbnailImage = stageActivity(async (item, call) => {
  const image = await readImageFile(imagePathOf(item));
  const keepAlpha = image.metadata.hasAlpha === true;
  const name = `${folderName(item.id, 'item id')}${keepAlpha ? '.png' : '.jpg'}`;
  const key = runOutputKey(call.pipeline, call.run, 'thumbnails', name);
  const resized = sharp(image.data, decodeOptions)
    .autoOrient()
    .resize(thumbnailBox, thumbnailBox, { fit: 'inside', withoutEnlargement: true });
  const encoded = await decoding(image, () =>
    (keepAlpha ? resized.png({ compressionLevel: 9 }) : resized.jpeg({ quality: 82, mozjpeg: true })).toBuffer({
      resolveWithObject: true,
    }),
  );
  const { uri } = await withScratch(async (scratch) => {
    const file = path.join(scratch, name);
    await fs.writeFile(file, encoded.data);
    return publishFile(file, key, { ifAbsent: true, contentType: keepAlpha ? 'image/png' : 'image/jpeg' });
  });
  const local = storage().kind === 'local' ? { path: uri } : {};
  return { ...item.data, thumbnail: { uri, ...local, width: encoded.info.width, height: encoded.info.height } };
}, imageStageOptions);
