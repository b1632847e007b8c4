import type { Context } from '@temporalio/activity';
import type {
  ActivityExecuteInput,
  ActivityInboundCallsInterceptor,
  ActivityInterceptors,
  Next,
} from '@temporalio/worker';

/**
 * Heartbeats on behalf of every activity that was given a heartbeat timeout, for as long as it
 * runs. A worker that dies (SIGKILL, lost host) then stops heartbeating, and Temporal retries its
 * activities on another worker within the heartbeat timeout instead of waiting for
 * startToClose; startToClose still bounds an activity that is alive but stuck.
 */
class AutoHeartbeat implements ActivityInboundCallsInterceptor {
  constructor(private readonly ctx: Context) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const timeoutMs = this.ctx.info.heartbeatTimeoutMs;
    if (!timeoutMs) return next(input);
    const timer = setInterval(() => this.ctx.heartbeat(), Math.max(500, Math.floor(timeoutMs / 3)));
    try {
      return await next(input);
    } finally {
      clearInterval(timer);
    }
  }
}

export const autoHeartbeat = (ctx: Context): ActivityInterceptors => ({ inbound: new AutoHeartbeat(ctx) });
