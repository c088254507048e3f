import { control } from '../lib/control.js';
export const summary = 'resume a paused campaign';
export function run(argv: string[]): Promise<number> {
  return control('resume', argv);
}
