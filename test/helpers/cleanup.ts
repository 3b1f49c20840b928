import { after } from 'node:test';

/**
 * Registers an `after` hook of the current suite that runs every pushed step in reverse order,
 * ignoring failures (each step stops something by PID); returns the list to push steps to.
 */
export function cleanupSteps(): Array<() => Promise<unknown>> {
  const steps: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const step of steps.reverse()) await step().catch(() => {});
  });
  return steps;
}
