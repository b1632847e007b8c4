/**
 * The TypeBox schemas of the API's path parameters, request bodies and answers. fastify's Ajv
 * checks every request against them and @fastify/swagger writes them into the OpenAPI document,
 * so the document describes exactly what the server accepts and answers.
 */
import { type Static, Type } from 'typebox';

const idRule = '1-128 letters, digits, ".", "_" or "-", starting with a letter or digit';
const idPattern = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';
export const idSchema = Type.String({
  pattern: idPattern,
  description: `use ${idRule} (it becomes part of workflow IDs)`,
});

export const runNameSchema = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
  description:
    'use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit; the run is workflow <pipeline>/<run>, and the same run name starts nothing new',
});

const dataSchema = (description: string) => Type.Record(Type.String(), Type.Unknown(), { description });

export const pipelineItemSchema = Type.Object(
  {
    id: idSchema,
    data: Type.Optional(
      dataSchema('the item\'s small JSON data; media travel by path, e.g. {"path": "/data/in/a.mp4"}'),
    ),
    origin: Type.Optional(
      Type.String({ maxLength: 128, description: 'where the item came from (the merger keeps it)' }),
    ),
  },
  { additionalProperties: false },
);

/** Inline items per request: beyond this, send a source (Temporal payloads are capped at 2 MB). */
export const maxInlineItems = 5000;

export const startRunRequestSchema = Type.Object(
  {
    run: Type.Optional(runNameSchema),
    items: Type.Optional(Type.Array(pipelineItemSchema, { minItems: 1, maxItems: maxInlineItems })),
    source: Type.Optional(
      Type.Object(
        {
          path: Type.Optional(
            Type.String({
              minLength: 1,
              description:
                'a folder (one item per file: path, name, bytes, extension) or a .jsonl items file, under an input root; relative paths are relative to the project folder',
            }),
          ),
          uri: Type.Optional(
            Type.String({
              minLength: 6,
              maxLength: 1100,
              pattern: '^s3://',
              description:
                'items in the object store, read in pages by the run: s3://bucket/prefix/ (one item per object), s3://bucket/items.jsonl or s3://bucket/items.csv (header row)',
            }),
          ),
        },
        { additionalProperties: false, description: 'Exactly one of path and uri.' },
      ),
    ),
  },
  {
    additionalProperties: false,
    description: 'Exactly one of items and source.',
    examples: [
      {
        run: 'first-api-run',
        items: [
          { id: 'user-1', data: { email: 'ada@example.test', optIn: true, channel: 'email' } },
          { id: 'user-2', data: { email: 'bob@example.test', optIn: false, channel: 'sms' } },
        ],
      },
    ],
  },
);
export type StartRunRequest = Static<typeof startRunRequestSchema>;

export const publishEventRequestSchema = Type.Object(
  {
    id: Type.String({
      pattern: idPattern,
      description: `the event's ID: the same ID is the same event, started once per pipeline and flow; ${idRule}`,
    }),
    data: Type.Optional(
      dataSchema(
        'the event\'s small JSON data: each subscribed pipeline\'s one item, and the input of each subscribed flow (transcode: {"path": "<video under an input root>"}; signup: the sign-up event, {"userId", "email", "optIn", "preference"})',
      ),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        id: 'signup-ada-1',
        data: { userId: 'ada', email: 'ada@example.test', optIn: true, preference: 'email', channel: 'email' },
      },
    ],
  },
);
export type PublishEventRequest = Static<typeof publishEventRequestSchema>;

/** Path parameters: names as the client sent them (decoded); unknown ones are a 404 of the handler. */
const pipelineName = Type.String({ minLength: 1, description: 'a pipeline name (GET /pipelines)' });
export const pipelineParams = Type.Object({ pipeline: pipelineName });
export const runParams = Type.Object({
  pipeline: pipelineName,
  run: Type.String({ minLength: 1, description: 'the run name the start answered' }),
});
export type RunParams = Static<typeof runParams>;
export const topicParams = Type.Object({
  topic: Type.String({ minLength: 1, description: 'a topic name (GET /topics)' }),
});

export const errorSchema = Type.Object({
  error: Type.String({ description: 'the kind of problem, e.g. BadRequest, UnknownPipeline' }),
  message: Type.String({ description: 'what is wrong and what to do' }),
});

const runRefProperties = {
  pipeline: Type.String(),
  run: Type.String(),
  workflowId: Type.String(),
  status: Type.String({ description: "this API's URL of the run's status" }),
  webUi: Type.String({ description: 'the run in the Temporal Web UI' }),
};
const startedSchema = Type.Boolean({ description: 'false: the run existed already, nothing new was started' });
const runRefSchema = Type.Object({ ...runRefProperties, started: Type.Optional(startedSchema) });

export const runStartedSchema = Type.Object({
  ...runRefProperties,
  started: startedSchema,
  items: Type.Integer({ description: 'items submitted (0 for a source.uri: the run reads and counts them)' }),
  itemsFrom: Type.Optional(Type.String({ description: 'the source.uri the run reads its items from' })),
});

const countsSchema = Type.Record(
  Type.String(),
  Type.Object({
    entered: Type.Optional(Type.Integer()),
    passed: Type.Optional(Type.Integer()),
    dropped: Type.Optional(Type.Integer()),
    deadLettered: Type.Optional(Type.Integer()),
  }),
);

export const runStatusSchema = Type.Object({
  pipeline: Type.String(),
  run: Type.String(),
  workflowId: Type.String(),
  status: Type.Enum(['RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'CONTINUED_AS_NEW', 'TIMED_OUT']),
  progress: Type.Optional(
    Type.Object({
      total: Type.Integer(),
      done: Type.Integer({ description: 'completed + dropped + deadLettered' }),
      completed: Type.Integer(),
      dropped: Type.Integer({ description: 'left out by a filter' }),
      deadLettered: Type.Integer(),
      running: Type.Integer(),
      partitions: Type.Optional(
        Type.Object({
          total: Type.Optional(Type.Integer()),
          done: Type.Optional(Type.Integer()),
          running: Type.Optional(Type.Integer()),
        }),
      ),
      stages: Type.Optional(countsSchema),
    }),
  ),
  reduce: Type.Optional(
    Type.Record(Type.String(), Type.Unknown(), {
      description: "a finished run's aggregates per reduce stage: count, sums, histograms",
    }),
  ),
  failure: Type.Optional(Type.String({ description: 'why a run that did not complete stopped' })),
  webUi: Type.String(),
});

export const pipelineListSchema = Type.Object({
  pipelines: Type.Array(
    Type.Object({
      name: Type.String(),
      description: Type.String(),
      start: Type.String(),
      stages: Type.Array(Type.String()),
      file: Type.String(),
    }),
  ),
});

export const topicListSchema = Type.Object({
  topics: Type.Array(
    Type.Object({
      topic: Type.String(),
      description: Type.String(),
      pipelines: Type.Array(Type.String()),
      flows: Type.Array(Type.String(), { description: 'flows an event starts: transcode, transcode-upload, signup' }),
      inboxes: Type.Array(Type.String(), { description: 'folders whose files are published here' }),
    }),
  ),
});

export const eventPublishedSchema = Type.Object({
  topic: Type.String(),
  event: Type.String(),
  runs: Type.Array(
    Type.Object({
      run: Type.String(),
      workflowId: Type.String(),
      started: startedSchema,
      webUi: Type.String({ description: 'the run in the Temporal Web UI' }),
      pipeline: Type.Optional(Type.String({ description: 'a pipeline run: its name (follow it at `status`)' })),
      flow: Type.Optional(
        Type.String({
          description: 'a flow run (transcode, transcode-upload, signup): its name (follow it in the Web UI)',
        }),
      ),
      status: Type.Optional(Type.String({ description: "a pipeline run's status URL in this API" })),
    }),
    { description: 'one run per subscribed pipeline, then one per subscribed flow' },
  ),
  queued: Type.Optional(
    Type.Object(
      { topic: Type.String(), partition: Type.Integer(), offset: Type.String() },
      {
        description:
          'with Kafka on (npm start -- --kafka): where the event was written; the consumer group starts its runs (runs is empty)',
      },
    ),
  ),
});

export const deadLetterListSchema = Type.Object({
  workflowId: Type.String(),
  deadLetters: Type.Array(
    Type.Object({
      itemId: Type.String(),
      stage: Type.String({ description: 'where it failed; a redrive enters there' }),
      attempts: Type.Integer(),
      error: Type.Object({ type: Type.Optional(Type.String()), message: Type.Optional(Type.String()) }),
      input: pipelineItemSchema,
    }),
  ),
});

export const redriveResultSchema = Type.Object({
  workflowId: Type.String(),
  runs: Type.Array(runRefSchema, { description: 'one run per stage the dead letters failed at' }),
});
