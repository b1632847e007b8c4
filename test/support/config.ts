import { BatchConfig, loadConfig } from '../../src/infra/config';

let counter = 0;

/** A config whose task queues are unique to one test, so tests never steal each other's tasks. */
export function isolatedConfig(address?: string): BatchConfig {
  counter += 1;
  const suffix = `${process.pid}-${counter}`;
  const base = loadConfig({});
  return {
    ...base,
    temporalAddress: address,
    queues: {
      workflow: `${base.queues.workflow}-${suffix}`,
      video: `${base.queues.video}-${suffix}`,
      image: `${base.queues.image}-${suffix}`,
      stages: `${base.queues.stages}-${suffix}`,
    },
  };
}
