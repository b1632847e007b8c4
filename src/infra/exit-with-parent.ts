/**
 * Preloaded (`node --require`) into worker processes that a supervisor starts (`npm start`, the
 * autoscaler): when that parent dies without stopping them — SIGKILL, OOM killer — nothing else
 * would ever stop them. Every second the process compares its parent pid with the one it was
 * started by (BATCH_PARENT_PID); once they differ the parent is gone, and the process stops itself
 * as it would on Ctrl-C (SIGTERM: the worker drains its tasks in flight, then exits), with a hard
 * exit after `BATCH_PARENT_GONE_GRACE_MS` in case that shutdown hangs.
 */
const parentPid = Number(process.env.BATCH_PARENT_PID);
const graceMs = Number(process.env.BATCH_PARENT_GONE_GRACE_MS) || 60_000;

if (Number.isInteger(parentPid) && parentPid > 1) {
  const watch = setInterval(() => {
    if (process.ppid === parentPid) return;
    clearInterval(watch);
    console.error(`[exit-with-parent] parent process ${parentPid} is gone; stopping (SIGTERM to self).`);
    setTimeout(() => process.exit(1), graceMs).unref();
    process.kill(process.pid, 'SIGTERM');
  }, 1000);
  // Never the reason the process stays up.
  watch.unref();
}
