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
import { closeAfterAnswer } from './connection-guards';
import { ApiError, ClientGoneError, readJsonBody, sendJson } from './http';
import { defaultServerLimits, type ServerLimits } from './limits';
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

/** The path of the request target (origin or absolute form); a 400 when it is not a URL. */
function pathnameOf(target: string): string {
  try {
    return new URL(target, 'http://api').pathname;
  } catch {
    throw new ApiError(
      400,
      'BadPath',
      `The request target ${JSON.stringify(target)} is not a valid URL; send a path such as /pipelines (GET /openapi.json lists every route).`,
    );
  }
}

function asApiError(error: unknown, ctx: ApiContext): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof UnknownTopicError) return new ApiError(404, 'UnknownTopic', error.message);
  if (error instanceof UnusableEventError) return new ApiError(400, 'BadEvent', error.message);
  if (error instanceof InputPathError) return new ApiError(400, error.kind, error.message);
  // The details stay in the API's log: an answer must not show the server's paths or internals.
  return (
    temporalUnavailable(error, ctx) ??
    new ApiError(500, 'InternalError', 'The API failed on this request; its log has the details. Try again later.')
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/**
 * A node:http request listener serving `routes` with `ctx`; `log` gets a line per 5xx answer.
 * Every request gets an answer or, when its client is gone, a closed connection: nothing a
 * request does ends the process.
 */
export function requestListener(
  ctx: ApiContext,
  routes: readonly Route[],
  log: (line: string) => void,
  limits: ServerLimits = defaultServerLimits,
) {
  const requests = ctx.meter?.createCounter(metricNames.apiRequests, 'requests', 'HTTP API requests answered');
  const durations = ctx.meter?.createHistogram(metricNames.apiRequestDuration, 'int', 'ms', 'time to answer');
  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    const started = Date.now();
    // The route's template, not the path: run IDs in labels would make a series per run.
    let routeLabel = 'unmatched';
    res.once('finish', () => {
      requests?.add(1, { route: routeLabel, method, status: String(res.statusCode) });
      durations?.record(Date.now() - started, { route: routeLabel, method });
    });
    const answer = async () => {
      if (req.httpVersion === '1.1' && req.headers.host === undefined)
        throw new ApiError(400, 'MissingHost', 'An HTTP/1.1 request needs a Host header, e.g. "Host: 127.0.0.1:8088".');
      const pathname = pathnameOf(target);
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
      const deadline = Date.now() + limits.temporalDeadlineMs;
      const response = await ctx.client.withDeadline(deadline, () => route.handle({ params, body }, ctx));
      sendJson(res, response.status, response.body);
    };
    answer()
      .catch((error: unknown) => {
        if (error instanceof ClientGoneError || res.destroyed || req.socket.destroyed) return void res.destroy();
        const failure = asApiError(error, ctx);
        if (failure.status >= 500) log(`${method} ${target} → ${failure.status}: ${describe(error)}`);
        if (res.headersSent) return void res.destroy();
        // Refused before its body was read (or all of it): read no more than a bounded rest, then close.
        if (!req.complete) closeAfterAnswer(req, res, limits);
        sendJson(res, failure.status, { error: failure.kind, message: failure.message }, failure.headers);
      })
      // Not even the error could be answered: an unhandled rejection would end the process.
      .catch((error: unknown) => {
        log(`${method} ${target} → no answer: ${describe(error)}`);
        res.destroy();
      });
  };
  return (req: IncomingMessage, res: ServerResponse): void => {
    // A socket error after the answer (a reset, a broken pipe) concerns only that client.
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    try {
      serve(req, res);
    } catch (error) {
      log(`${req.method} ${req.url} → the listener failed: ${describe(error)}`);
      try {
        if (!res.headersSent)
          sendJson(res, 500, { error: 'InternalError', message: 'The API failed on this request. Try again later.' });
        else res.destroy();
      } catch {
        res.destroy();
      }
    }
  };
}
