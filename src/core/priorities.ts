/**
 * Temporal task-queue priority keys (1 highest … 5 lowest): the seeds' answer to the backlog
 * problem — new work before retries. Children and activities inherit their run's key.
 */
export const PRIORITY_NEW_WORK = 1;
export const PRIORITY_REDRIVE = 5;
