import type { SetAsideInput } from '../../src/activities/batch/set-aside';
import type { ContactSheetInput, ExtractFrameInput, MakeThumbnailsInput } from '../../src/activities/thumbnailer/types';
import type { WorkItem } from '../../src/core/work-item';
import type { BatchConfig } from '../../src/infra/config';
import type { ThumbnailerInput, VideoPayload } from '../../src/workflows/flows/thumbnailer';

/** Stand-in activities for workflow-logic tests and history recording: no media, just records. */
export const items = (n: number): WorkItem<VideoPayload>[] =>
  Array.from({ length: n }, (_, i) => ({ id: `video-${i}`, payload: { path: `/videos/video-${i}.mp4` } }));

/**
 * A thumbnailer run's input for stand-ins on `config`'s queues: 6 items, one JPEG size, 2 at a
 * time, 3 attempts 10 ms apart; `overrides` change any of it.
 */
export function thumbnailerInput(config: BatchConfig, overrides: Partial<ThumbnailerInput> = {}): ThumbnailerInput {
  return {
    items: items(6),
    outputDir: '/out',
    sizes: [{ width: 320, format: 'jpeg' }],
    concurrency: 2,
    queues: { video: config.queues.video, image: config.queues.image },
    retry: { initialInterval: '10 ms', maximumAttempts: 3 },
    ...overrides,
  };
}

/** Stand-ins that record what the workflow asked for. `failFor` decides an item's fate. */
export function standIns(failFor: (input: ExtractFrameInput) => Error | undefined = () => undefined) {
  const calls = { extract: [] as string[], setAside: [] as SetAsideInput[], sheet: [] as ContactSheetInput[] };
  let running = 0;
  let maxRunning = 0;
  const video = {
    async extractFrame(input: ExtractFrameInput) {
      calls.extract.push(input.itemId);
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      try {
        await new Promise((r) => setTimeout(r, 20));
        const error = failFor(input);
        if (error) throw error;
        const video = { durationSeconds: 3, width: 640, height: 360, codec: 'h264' };
        return {
          itemId: input.itemId,
          framePath: `/out/${input.itemId}/frame.png`,
          atSeconds: 1,
          width: 640,
          height: 360,
          video,
        };
      } finally {
        running -= 1;
      }
    },
  };
  const image = {
    async makeThumbnails(input: MakeThumbnailsInput) {
      return input.sizes.map((s) => ({
        path: `/out/${input.itemId}/thumb-${s.width}.${s.format}`,
        width: s.width,
        height: s.width / 2,
        format: s.format,
        bytes: 100,
      }));
    },
    async makeContactSheet(input: ContactSheetInput) {
      calls.sheet.push(input);
      return { path: '/out/contact-sheet.jpg', width: 100, height: 100, tiles: input.entries.length };
    },
    async setAsideItem(input: SetAsideInput) {
      calls.setAside.push(input);
      return `/out/failed/${input.item.id}.json`;
    },
  };
  return { video, image, calls, maxRunning: () => maxRunning };
}
