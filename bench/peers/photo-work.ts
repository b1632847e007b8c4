/**
 * The photos workload as the peers run it: "tag every image, thumbnail the landscape ones", with
 * the very stage activities the image-tagging pipeline runs (`tag-image`, `thumbnail-image`),
 * called one item at a time in an activity context of the SDK's MockActivityEnvironment (they
 * read the context for heartbeats, logs and metrics; outside Temporal those calls do nothing).
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { tagImage } from '../../src/activities/image-tagging/tag-image';
import { thumbnailImage } from '../../src/activities/image-tagging/thumbnail-image';
import type { StageCall, StageItemResult } from '../../src/activities/pipeline/types';

const quiet = () => undefined;
const environment = new MockActivityEnvironment(undefined, {
  logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet },
});

/** The pipeline name the outputs go under, as the project's run would write them. */
export const photosPipeline = 'image-tagging';

/** Tags one photo and thumbnails it when landscape; says whether it was. Throws on a failed item. */
export async function tagAndThumbnail(file: string, id: string, run: string): Promise<boolean> {
  const call = (stage: string, data: Record<string, unknown>): StageCall => ({
    pipeline: photosPipeline,
    run,
    stage,
    items: [{ id, data }],
    isolated: true,
  });
  const [tagged]: StageItemResult[] = await environment.run(tagImage, call('tag', { path: file }));
  if (!tagged.ok) throw new Error(`tag-image failed on ${file}: ${tagged.error.message}`);
  const tags = tagged.data.tags as string[];
  if (!tags.includes('landscape')) return false;
  const [thumb]: StageItemResult[] = await environment.run(thumbnailImage, call('thumbnail', tagged.data));
  if (!thumb.ok) throw new Error(`thumbnail-image failed on ${file}: ${thumb.error.message}`);
  return true;
}
