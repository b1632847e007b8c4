/**
 * The request pipeline: match the route, check the bearer token, read and schema-check the body,
 * run the handler, and answer every failure as JSON `{error, message}`. Bad input is always a
 * 4xx saying what to change; a 5xx means the service itself (or Temporal) has a problem.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { status as grpcStatus } from '@grpc/grpc-js';
import { isGrpcServiceError } from '@temporalio/client';
import { metricNames } from '../core/metrics';
import { UnknownTopicError, UnusableEventError } from '../client/event-router';
import { frontendAddress } from '../runtime/config';
import { InputPathError } from '../sources/input-roots';
import type { ApiContext } from './context';
import { ApiError, readJsonBody, sendJson } from './http';
import { schemaProblems } from './json-schema';
import type { Route } from './routes';
import { tokenMatches } from './token';

interface Match {
  route: Route;
  params: Record<string, string>;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError(400, 'BadPath', `The path segment "${segment}" is not valid percent-encoding.`);
  }
}

/** The route for a method and path; 404 for an unknown path, 405 (with Allow) for a wrong method. */
export function matchRoute(routes: readonly Route[], method: string, pathname: string): Match {
  const segments = pathname.split('/').slice(1);
  const allowed: string[] = [];
  for (const route of routes) {
    const pattern = route.path.split('/').slice(1);
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const fits = pattern.every((part, i) => {
      if (part.startsWith('{')) {
        params[part.slice(1, -1)] = decodeSegment(segments[i]);
        return segments[i] !== '';
      }
      return part === segments[i];
    });
    if (!fits) continue;
    if (route.method === method) return { route, params };
    allowed.push(route.method);
  }
  if (allowed.length > 0)
    throw new ApiError(405, 'MethodNotAllowed', `${method} ${pathname} is not served; use ${allowed.join(' or ')}.`, {
      Allow: allowed.join(', '),
    });
  throw new ApiError(404, 'NotFound', `No route ${method} ${pathname}; GET /openapi.json lists every route.`);
}

function authenticate(req: IncomingMessage, ctx: ApiContext): void {
  const challenge = { 'WWW-Authenticate': 'Bearer realm="temporal-batch"' };
  const howTo =
    'send "Authorization: Bearer <token>" with the token the API printed at start (BATCH_API_TOKEN, or the api-token file in the data folder).';
  const header = req.headers.authorization;
  const given = header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  if (!given) throw new ApiError(401, 'Unauthorized', `This API needs a bearer token: ${howTo}`, challenge);
  if (!tokenMatches(given, ctx.token))
    throw new ApiError(401, 'Unauthorized', `The bearer token is wrong: ${howTo}`, challenge);
}

/** Temporal not answering is the service's problem (503), never the client's. */
function temporalUnavailable(error: unknown, ctx: ApiContext): ApiError | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (!isGrpcServiceError(e)) continue;
    if (e.code === grpcStatus.UNAVAILABLE)
      return new ApiError(
        503,
        'TemporalUnavailable',
        `Temporal does not answer at ${frontendAddress(ctx.config)}; start it (npm start) or set TEMPORAL_ADDRESS, then try again.`,
      );
    if (e.code === grpcStatus.DEADLINE_EXCEEDED)
      return new ApiError(
        503,
        'TemporalTimeout',
        `Temporal did not answer in time (${e.details}); is a worker polling ${ctx.config.queues.workflow}? Try again.`,
      );
  }
  return undefined;
}

function asApiError(error: unknown, ctx: ApiContext): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof UnknownTopicError) return new ApiError(404, 'UnknownTopic', error.message);
  if (error instanceof UnusableEventError) return new ApiError(400, 'BadEvent', error.message);
  if (error instanceof InputPathError) return new ApiError(400, error.kind, error.message);
  return (
    temporalUnavailable(error, ctx) ??
    new ApiError(500, 'InternalError', `The API failed: ${error instanceof Error ? error.message : String(error)}`)
  );
}

/** A node:http request listener serving `routes` with `ctx`; `log` gets a line per 5xx answer. */
export function requestListener(ctx: ApiContext, routes: readonly Route[], log: (line: string) => void) {
  const requests = ctx.meter?.createCounter(metricNames.apiRequests, 'requests', 'HTTP API requests answered');
  const durations = ctx.meter?.createHistogram(metricNames.apiRequestDuration, 'int', 'ms', 'time to answer');
  return (req: IncomingMessage, res: ServerResponse): void => {
    const method = req.method ?? 'GET';
    const pathname = new URL(req.url ?? '/', 'http://api').pathname;
    const started = Date.now();
    // The route's template, not the path: run IDs in labels would make a series per run.
    let routeLabel = 'unmatched';
    res.once('finish', () => {
      requests?.add(1, { route: routeLabel, method, status: String(res.statusCode) });
      durations?.record(Date.now() - started, { route: routeLabel, method });
    });
    const answer = async () => {
      const { route, params } = matchRoute(routes, method, pathname);
      routeLabel = route.path;
      if (!route.public) authenticate(req, ctx);
      const body = await readJsonBody(req);
      if (route.body) {
        if (body === undefined)
          throw new ApiError(
            400,
            'BadRequest',
            `${method} ${route.path} needs a JSON body, e.g. ${JSON.stringify(route.body.example)}.`,
          );
        const problems = schemaProblems(route.body, body);
        if (problems.length > 0)
          throw new ApiError(
            400,
            'BadRequest',
            `The request body is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
          );
      } else if (body !== undefined) {
        throw new ApiError(400, 'BadRequest', `${method} ${route.path} takes no body; send none.`);
      }
      const response = await route.handle({ params, body }, ctx);
      sendJson(res, response.status, response.body);
    };
    answer().catch((error: unknown) => {
      req.resume(); // an unread body (refused before reading) must not stall the connection
      const failure = asApiError(error, ctx);
      if (failure.status >= 500) log(`${method} ${pathname} → ${failure.status}: ${failure.message}`);
      if (res.headersSent) return void res.destroy();
      sendJson(res, failure.status, { error: failure.kind, message: failure.message }, failure.headers);
    });
  };
}
