/**
 * The API as a fastify 5 application: the routes of src/api/routes.ts with their TypeBox schemas
 * (checked by fastify's Ajv, documented by @fastify/swagger), the limits of src/api/limits.ts as
 * fastify's and its node server's options, bearer auth as an `onRequest` hook, and every failure
 * answered as JSON `{error, message}`: a 4xx saying what to change for bad input, a 503 when
 * Temporal does not answer, never a stack or a server path.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { metricNames } from '../core/metrics';
import { answerClientError, answerExpectation, closeAfterAnswer } from './connection-guards';
import type { ApiContext } from './context';
import { ApiError, asApiError } from './errors';
import { parseJsonBody } from './json-body';
import { maxBodyBytes, maxParamLength, type ServerLimits } from './limits';
import { fastifyUrl, registerDocumentedRoutes } from './openapi';
import { requestGuard, requestLineRefusal, routedUrl, type RouteConfig } from './request-guards';
import { apiRoutes } from './routes';
import { validationError } from './validation-errors';

/** Answers as people read them with curl: indented JSON and a final newline. */
const jsonText = (body: unknown) => `${JSON.stringify(body, null, 2)}\n`;

const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'] as const;

/** Each path's other methods: a 405 naming the ones it serves (hidden from the document). */
function registerWrongMethods(app: FastifyInstance): void {
  for (const path of new Set(apiRoutes.map((r) => r.path))) {
    const allow: string[] = apiRoutes.filter((r) => r.path === path).map((r) => r.method);
    const config: RouteConfig = { allow };
    app.route({
      method: methods.filter((m) => !allow.includes(m)),
      url: fastifyUrl(path),
      config,
      schema: { hide: true },
      // The onRequest hook answers 405 before this could run.
      handler: async () => {
        throw new ApiError(405, 'MethodNotAllowed', `Use ${allow.join(' or ')}.`, { Allow: allow.join(', ') });
      },
    });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** The API's fastify application for `ctx` (not listening yet: src/api/server.ts listens). */
export async function buildApiApp(
  ctx: ApiContext,
  log: (line: string) => void,
  limits: ServerLimits,
): Promise<FastifyInstance> {
  /** Every failure's answer; 5xx details go to `log` only. Refused before its body was read: closed after. */
  const answerFailure = (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const failure = asApiError(error, ctx.config);
    if (failure.status >= 500) log(`${request.method} ${request.url} → ${failure.status}: ${describe(error)}`);
    if (reply.sent || reply.raw.headersSent) return void reply.raw.destroy();
    if (!request.raw.complete) closeAfterAnswer(request.raw, reply.raw, limits);
    // Type and serializer set here too: a target the router could not read has no route's.
    return reply
      .code(failure.status)
      .headers(failure.headers)
      .type('application/json; charset=utf-8')
      .serializer(jsonText)
      .send({ error: failure.kind, message: failure.message });
  };

  const app = Fastify({
    // No request logging: the token must never reach a log. Failures go to `log` above.
    logger: false,
    bodyLimit: maxBodyBytes,
    routerOptions: { maxParamLength },
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // No socket inactivity timeout (connectionTimeout 0): an answer may wait on Temporal (its own
    // deadline, plus the client's retries) longer than any request may take to arrive.
    connectionTimeout: 0,
    forceCloseConnections: true,
    exposeHeadRoutes: false,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // How often the timeouts above are checked (default 30 s, which would stretch them).
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
      // The onRequest hook refuses a missing Host itself, with a JSON answer (node's has no body).
      requireHostHeader: false,
    },
    rewriteUrl: (req) => routedUrl(req.url ?? '/'),
    ajv: {
      // Every problem at once, with the value and schema it failed (for the messages); nothing
      // removed or coerced: a body is accepted as sent or refused.
      customOptions: {
        allErrors: true,
        verbose: true,
        removeAdditional: false,
        coerceTypes: false,
        useDefaults: false,
      },
    },
    schemaErrorFormatter: validationError,
    clientErrorHandler: answerClientError,
    // A target the router cannot read: the request line's problem first (a URL that is none).
    frameworkErrors: (error, request, reply) => answerFailure(requestLineRefusal(request) ?? error, request, reply),
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.server.maxConnections = limits.maxConnections;
  app.server.on('checkExpectation', answerExpectation(limits));
  // After start-up, a server error (e.g. too many open files) is logged, never thrown.
  app.server.on('error', (error) => log(`server error: ${error.message}`));

  // Every body is JSON, whatever its Content-Type; read within bodyLimit by fastify.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, text, done) => {
    try {
      done(null, parseJsonBody(text as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.setSerializerCompiler(() => jsonText);
  app.setReplySerializer(jsonText);
  app.setErrorHandler(answerFailure);

  app.addHook('onRequest', async (request, reply) => {
    // A socket error after the answer (a reset, a broken pipe) concerns only that client.
    request.raw.on('error', () => undefined);
    reply.raw.on('error', () => undefined);
  });
  app.addHook('onRequest', requestGuard(ctx.token));
  app.addHook('preValidation', async (request) => {
    const body = request.routeOptions.schema?.body as { examples?: unknown[] } | undefined;
    const { path } = request.routeOptions.config;
    if (body && request.body === undefined)
      throw new ApiError(
        400,
        'BadRequest',
        `${request.method} ${path} needs a JSON body, e.g. ${JSON.stringify(body.examples?.[0] ?? {})}.`,
      );
    if (!body && request.body !== undefined)
      throw new ApiError(400, 'BadRequest', `${request.method} ${path} takes no body; send none.`);
  });

  const requests = ctx.meter?.createCounter(metricNames.apiRequests, 'requests', 'HTTP API requests answered');
  const durations = ctx.meter?.createHistogram(metricNames.apiRequestDuration, 'int', 'ms', 'time to answer');
  app.addHook('onResponse', async (request, reply) => {
    // The route's template, not the path: run IDs in labels would make a series per run.
    const route = request.routeOptions.config?.path ?? 'unmatched';
    requests?.add(1, { route, method: request.method, status: String(reply.statusCode) });
    durations?.record(Math.round(reply.elapsedTime), { route, method: request.method });
  });

  registerWrongMethods(app);
  await registerDocumentedRoutes(app, (route) => async (request, reply) => {
    // Temporal calls of one request end by then (503 TemporalTimeout), so no request hangs on Temporal.
    const deadline = Date.now() + limits.temporalDeadlineMs;
    const { params, body } = request as FastifyRequest<{ Params: unknown; Body: unknown }>;
    const response = await ctx.client.withDeadline(deadline, () => route.handle({ params, body }, ctx, app));
    return reply.code(response.status).send(response.body);
  });
  return app;
}
