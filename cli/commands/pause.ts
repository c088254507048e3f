import { control } from '../lib/control.js';
export const summary = 'pause a campaign (no new structures start; running ones finish)';
export function run(argv: string[]): Promise<number> {
  return control('pause', argv);
}
