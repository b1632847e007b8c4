/**
 * The JSON schemas of the API's request and response bodies: request schemas check every request
 * (src/api/json-schema.ts) and all of them are the OpenAPI document's components, so the
 * document describes exactly what the server accepts and answers.
 */
import type { JsonSchema } from './json-schema';

const idRule = '1-128 letters, digits, ".", "_" or "-", starting with a letter or digit';
export const idSchema: JsonSchema = {
  type: 'string',
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$',
  description: `use ${idRule} (it becomes part of workflow IDs)`,
};

export const runNameSchema: JsonSchema = {
  type: 'string',
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
  description:
    'use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit; the run is workflow <pipeline>/<run>, and the same run name starts nothing new',
};

const dataSchema: JsonSchema = {
  type: 'object',
  description: 'the item\'s small JSON data; media travel by path, e.g. {"path": "/data/in/a.mp4"}',
};

export const pipelineItemSchema: JsonSchema = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: {
    id: idSchema,
    data: dataSchema,
    origin: { type: 'string', maxLength: 128, description: 'where the item came from (the merger keeps it)' },
  },
};

/** Inline items per request: beyond this, send a source (Temporal payloads are capped at 2 MB). */
export const maxInlineItems = 5000;

export const startRunRequestSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Exactly one of items and source.',
  properties: {
    run: runNameSchema,
    items: { type: 'array', minItems: 1, maxItems: maxInlineItems, items: pipelineItemSchema },
    source: {
      type: 'object',
      required: ['path'],
      additionalProperties: false,
      properties: {
        path: {
          type: 'string',
          minLength: 1,
          description:
            'a folder (one item per file: path, name, bytes, extension) or a .jsonl items file, under an input root; relative paths are relative to the project folder',
        },
      },
    },
  },
  example: {
    run: 'first-api-run',
    items: [
      { id: 'user-1', data: { email: 'ada@example.test', optIn: true, channel: 'email' } },
      { id: 'user-2', data: { email: 'bob@example.test', optIn: false, channel: 'sms' } },
    ],
  },
};

export const publishEventRequestSchema: JsonSchema = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: {
    id: {
      ...idSchema,
      description: `the event's ID: the same ID is the same event, started once per pipeline and flow; ${idRule}`,
    },
    data: {
      ...dataSchema,
      description:
        'the event\'s small JSON data: each subscribed pipeline\'s one item, and the input of each subscribed flow (transcode: {"path": "<video under an input root>"}; signup: the sign-up event, {"userId", "email", "optIn", "preference"})',
    },
  },
  example: {
    id: 'signup-ada-1',
    data: { userId: 'ada', email: 'ada@example.test', optIn: true, preference: 'email', channel: 'email' },
  },
};

export const errorSchema: JsonSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', description: 'the kind of problem, e.g. BadRequest, UnknownPipeline' },
    message: { type: 'string', description: 'what is wrong and what to do' },
  },
};

const runRefSchema: JsonSchema = {
  type: 'object',
  required: ['pipeline', 'run', 'workflowId', 'status', 'webUi'],
  properties: {
    pipeline: { type: 'string' },
    run: { type: 'string' },
    workflowId: { type: 'string' },
    started: { type: 'boolean', description: 'false: the run existed already, nothing new was started' },
    status: { type: 'string', description: "this API's URL of the run's status" },
    webUi: { type: 'string', description: 'the run in the Temporal Web UI' },
  },
};

export const runStartedSchema: JsonSchema = {
  ...runRefSchema,
  required: [...runRefSchema.required!, 'started', 'items'],
  properties: { ...runRefSchema.properties, items: { type: 'integer', description: 'items submitted' } },
};

const countsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: {
    type: 'object',
    properties: {
      entered: { type: 'integer' },
      passed: { type: 'integer' },
      dropped: { type: 'integer' },
      deadLettered: { type: 'integer' },
    },
  },
};

export const runStatusSchema: JsonSchema = {
  type: 'object',
  required: ['pipeline', 'run', 'workflowId', 'status', 'webUi'],
  properties: {
    pipeline: { type: 'string' },
    run: { type: 'string' },
    workflowId: { type: 'string' },
    status: {
      type: 'string',
      enum: ['RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'CONTINUED_AS_NEW', 'TIMED_OUT'],
    },
    progress: {
      type: 'object',
      required: ['total', 'done', 'completed', 'dropped', 'deadLettered', 'running'],
      properties: {
        total: { type: 'integer' },
        done: { type: 'integer', description: 'completed + dropped + deadLettered' },
        completed: { type: 'integer' },
        dropped: { type: 'integer', description: 'left out by a filter' },
        deadLettered: { type: 'integer' },
        running: { type: 'integer' },
        partitions: {
          type: 'object',
          properties: { total: { type: 'integer' }, done: { type: 'integer' }, running: { type: 'integer' } },
        },
        stages: countsSchema,
      },
    },
    reduce: { type: 'object', description: "a finished run's aggregates per reduce stage: count, sums, histograms" },
    failure: { type: 'string', description: 'why a run that did not complete stopped' },
    webUi: { type: 'string' },
  },
};

export const pipelineListSchema: JsonSchema = {
  type: 'object',
  required: ['pipelines'],
  properties: {
    pipelines: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'description', 'start', 'stages', 'file'],
        properties: {
          name: { type: 'string' },
          description: { type: 'string' },
          start: { type: 'string' },
          stages: { type: 'array', items: { type: 'string' } },
          file: { type: 'string' },
        },
      },
    },
  },
};

export const topicListSchema: JsonSchema = {
  type: 'object',
  required: ['topics'],
  properties: {
    topics: {
      type: 'array',
      items: {
        type: 'object',
        required: ['topic', 'description', 'pipelines', 'flows', 'inboxes'],
        properties: {
          topic: { type: 'string' },
          description: { type: 'string' },
          pipelines: { type: 'array', items: { type: 'string' } },
          flows: { type: 'array', items: { type: 'string' }, description: 'flows an event starts: transcode, signup' },
          inboxes: { type: 'array', items: { type: 'string' }, description: 'folders whose files are published here' },
        },
      },
    },
  },
};

export const eventPublishedSchema: JsonSchema = {
  type: 'object',
  required: ['topic', 'event', 'runs'],
  properties: {
    topic: { type: 'string' },
    event: { type: 'string' },
    runs: {
      type: 'array',
      description: 'one run per subscribed pipeline, then one per subscribed flow',
      items: {
        type: 'object',
        required: ['run', 'workflowId', 'started', 'webUi'],
        properties: {
          ...runRefSchema.properties,
          pipeline: { type: 'string', description: 'a pipeline run: its name (follow it at `status`)' },
          flow: { type: 'string', description: 'a flow run (transcode, signup): its name (follow it in the Web UI)' },
          status: { type: 'string', description: "a pipeline run's status URL in this API" },
        },
      },
    },
  },
};

export const deadLetterListSchema: JsonSchema = {
  type: 'object',
  required: ['workflowId', 'deadLetters'],
  properties: {
    workflowId: { type: 'string' },
    deadLetters: {
      type: 'array',
      items: {
        type: 'object',
        required: ['itemId', 'stage', 'attempts', 'error', 'input'],
        properties: {
          itemId: { type: 'string' },
          stage: { type: 'string', description: 'where it failed; a redrive enters there' },
          attempts: { type: 'integer' },
          error: { type: 'object', properties: { type: { type: 'string' }, message: { type: 'string' } } },
          input: pipelineItemSchema,
        },
      },
    },
  },
};

export const redriveResultSchema: JsonSchema = {
  type: 'object',
  required: ['workflowId', 'runs'],
  properties: {
    workflowId: { type: 'string' },
    runs: { type: 'array', items: runRefSchema, description: 'one run per stage the dead letters failed at' },
  },
};
