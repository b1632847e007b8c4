import sharp from 'sharp';
import type { BatchConfig } from '../infra/config';
import * as batchActivities from '../activities/batch';
import { extractFrame, makeContactSheet, makeThumbnails } from '../activities/thumbnailer';
import { createTranscodeActivities } from '../activities/transcode';
import { reportActivities, stageActivities } from '../activities/pipeline';

/**
 * Which task queue each worker role polls and what it runs. Roles scale apart: ffmpeg work is
 * CPU-heavy and slow, sharp work is quick, workflow tasks are light, pipeline stages vary.
 */
export const workerRoles = ['workflows', 'video', 'image', 'stages'] as const;
export type WorkerRole = (typeof workerRoles)[number];

export interface RolePlan {
  role: WorkerRole;
  taskQueue: string;
  /** Activities this role runs; none for the workflow role. */
  activities?: Record<string, (...args: never[]) => Promise<unknown>>;
  /** Max activities at once (config.workers, sized to the cores): keeps ffmpeg and sharp from oversubscribing a small machine. */
  maxConcurrentActivityTaskExecutions?: number;
}

/**
 * Sharp's libvips threads per operation, for the whole process (sharp's default is one per core,
 * for every operation: with several image tasks at once, far more threads than cores).
 */
function sizeImageThreads(config: BatchConfig): void {
  if (config.workers) sharp.concurrency(config.workers.imageThreads);
}

export function planRole(role: WorkerRole, config: BatchConfig): RolePlan {
  // Older configs built by hand may lack the sizing: the defaults then apply.
  const slots = config.workers ?? { stageSlots: 8, imageSlots: 4, videoSlots: 2 };
  if (role === 'image' || role === 'stages') sizeImageThreads(config);
  switch (role) {
    case 'workflows':
      return { role, taskQueue: config.queues.workflow };
    case 'video':
      return {
        role,
        taskQueue: config.queues.video,
        // Pipeline stages too: the thumbnailer's extract-frame runs here (src/pipelines/thumbnailer.ts).
        activities: { extractFrame, ...createTranscodeActivities(), ...stageActivities },
        maxConcurrentActivityTaskExecutions: slots.videoSlots,
      };
    case 'image':
      return {
        role,
        taskQueue: config.queues.image,
        // Pipeline stages and reports too: the thumbnailer's make-thumbnails, results and contact sheets.
        activities: { makeThumbnails, makeContactSheet, ...batchActivities, ...stageActivities, ...reportActivities },
        maxConcurrentActivityTaskExecutions: slots.imageSlots,
      };
    case 'stages':
      return {
        role,
        taskQueue: config.queues.stages,
        activities: { ...stageActivities, ...reportActivities },
        maxConcurrentActivityTaskExecutions: slots.stageSlots,
      };
  }
}

/** `--roles a,b`, `all` (the default) or `none` (a process that serves only its `--shards` queues). */
export function parseRoles(value: string | undefined): WorkerRole[] {
  if (!value || value === 'all') return [...workerRoles];
  if (value === 'none') return [];
  const roles = value.split(',').map((r) => r.trim());
  for (const role of roles) {
    if (!(workerRoles as readonly string[]).includes(role)) {
      throw new Error(
        `Unknown worker role "${role}"; use any of ${workerRoles.join(', ')} (comma-separated), "all" or "none".`,
      );
    }
  }
  return roles as WorkerRole[];
}
