import type { ReportActivityName, StageActivityName } from '../../pipelines/activity-names';
import type { StageActivity } from './types';
import { annotate, failWhen, noop, sleep } from './builtins';
import { buildCommit } from '../ci-merge/build-commit';
import { histogramReport } from './histogram-report';
import { transcodeStageActivities } from '../transcode/stages';
import { tagImage } from '../image-tagging/tag-image';
import { thumbnailImage } from '../image-tagging/thumbnail-image';
import type { ReportActivity } from './report-types';
import { contactSheetsReport } from '../thumbnailer/contact-sheets-report';
import { extractFrameStage, makeThumbnailsStage } from '../thumbnailer/stages';
import { resultActivities } from './results';
import { publishToTopic } from './topic-sink';

/**
 * Every stage activity a pipeline spec may name, registered by workers under these names, with
 * the run's bookkeeping activities (results parts, their summary, item pages): wherever stages
 * run, a partition can write its results.
 */
export const stageActivities: Record<StageActivityName, StageActivity> & typeof resultActivities = {
  ...resultActivities,
  noop,
  annotate,
  'fail-when': failWhen,
  sleep,
  'build-commit': buildCommit,
  'tag-image': tagImage,
  'thumbnail-image': thumbnailImage,
  'extract-frame': extractFrameStage,
  'make-thumbnails': makeThumbnailsStage,
  // Registered here too so specs validate; the transcode pipeline sends them to the video queue.
  ...transcodeStageActivities(),
  'publish-to-topic': publishToTopic,
};

/** Every report activity a reduce stage's `report` may name, registered beside the stage activities. */
export const reportActivities: Record<ReportActivityName, ReportActivity> = {
  'histogram-report': histogramReport,
  'contact-sheets': contactSheetsReport,
};
