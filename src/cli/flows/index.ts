import type { CliFlow } from './flow';

/** The hands-on flows, in the order `npm start`'s demo runs them. */
export const flows: CliFlow[] = [];

export function findFlow(name: string): CliFlow | undefined {
  return flows.find((f) => f.name === name);
}
