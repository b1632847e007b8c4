/**
 * Every failure of a request as the answer a client can act on: `{error, message}` with a 4xx for
 * bad input (fastify's own errors included), 503 when Temporal does not answer, and a 500 that
 * shows nothing of the server for anything else (the details go to the API's log).
 */
import { status as grpcStatus } from '@grpc/grpc-js';
import { isGrpcServiceError } from '@temporalio/client';
import type { FastifyError } from 'fastify';
import { UnknownTopicError, UnusableEventError } from '../client/event-router';
import { frontendAddress, type BatchConfig } from '../infra/config';
import { InputPathError } from '../sources/input-roots';
import { maxBodyBytes, maxParamLength } from './limits';

/** A request the API refuses: its HTTP status, a short kind and a message saying what to do. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly kind: string,
    message: string,
    /** Extra response headers, e.g. `WWW-Authenticate` or `Allow`. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The body every error answer has. */
export interface ErrorBody {
  error: string;
  message: string;
}

/** Temporal not answering is the service's problem (503), never the client's. */
function temporalUnavailable(error: unknown, config: BatchConfig): ApiError | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (!isGrpcServiceError(e)) continue;
    if (e.code === grpcStatus.UNAVAILABLE)
      return new ApiError(
        503,
        'TemporalUnavailable',
        `Temporal does not answer at ${frontendAddress(config)}; start it (npm start) or set TEMPORAL_ADDRESS, then try again.`,
      );
    if (e.code === grpcStatus.DEADLINE_EXCEEDED)
      return new ApiError(
        503,
        'TemporalTimeout',
        `Temporal did not answer in time (${e.details}); is a worker polling ${config.queues.workflow}? Try again.`,
      );
  }
  return undefined;
}

/** fastify's own refusals (its error codes), in the API's words. */
function frameworkRefusal(error: FastifyError): ApiError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(
        413,
        'PayloadTooLarge',
        `The request body is larger than ${maxBodyBytes} bytes. Send large batches as a source instead: {"source": {"path": "<folder or .jsonl file under an input root>"}}.`,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(
        415,
        'UnsupportedMediaType',
        'The Content-Type header is not a valid media type; send "Content-Type: application/json".',
      );
    case 'FST_ERR_BAD_URL': {
      const path = /^'(.*)' is not a valid url component$/.exec(error.message)?.[1] ?? '';
      return new ApiError(
        400,
        'BadPath',
        `The path ${JSON.stringify(path)} is not valid percent-encoding; write a "%" itself as %25.`,
      );
    }
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ApiError(
        414,
        'PathTooLong',
        `A path segment is longer than ${maxParamLength} characters; no pipeline, run or topic name is (GET /openapi.json lists every route).`,
      );
  }
  // Any other refusal of fastify's (a 4xx): its status, and its message as the hint.
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return new ApiError(status, 'BadRequest', error.message.replace(/\.?$/, '.'));
  return undefined;
}

/** The answer for a failure of a request: its status, kind and message (5xx: nothing internal). */
export function asApiError(error: unknown, config: BatchConfig): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof UnknownTopicError) return new ApiError(404, 'UnknownTopic', error.message);
  if (error instanceof UnusableEventError) return new ApiError(400, 'BadEvent', error.message);
  if (error instanceof InputPathError) return new ApiError(400, error.kind, error.message);
  const refusal = error instanceof Error && 'code' in error ? frameworkRefusal(error as FastifyError) : undefined;
  // The details stay in the API's log: an answer must not show the server's paths or internals.
  return (
    refusal ??
    temporalUnavailable(error, config) ??
    new ApiError(500, 'InternalError', 'The API failed on this request; its log has the details. Try again later.')
  );
}
