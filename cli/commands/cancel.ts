import { control } from '../lib/control.js';
export const summary = 'cancel a campaign (running structures are cancelled, the rest marked cancelled)';
export function run(argv: string[]): Promise<number> {
  return control('cancel', argv);
}
