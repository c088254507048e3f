// softmode demo (npm run demo): a real campaign over example crystals the project builds itself
// from textbook lattice constants (examples/structures.ts): CHGNet 0.3.0 when its model is
// shipped, otherwise the classical pair potential (said loudly: its labels mean nothing).
import { join } from 'node:path';
import { exampleStructures, writeExamples } from '../../examples/structures.js';
import { loadModel } from '../../activities/compute/science.js';
import { type Parsed, parseArgs, str } from '../lib/args.js';
import { campaignDirOf } from '../lib/campaign.js';
import { run as runCampaign } from './run.js';

export const summary = 'run a real campaign over built-in example crystals (Si, NaCl, MgO, CaTiO3, ...)';

export async function run(argv: string[]): Promise<number> {
  let a: Parsed;
  try {
    a = parseArgs(argv, { value: ['campaign-dir', 'model', 'supercell', 'preset'] });
  } catch (e) {
    console.error(`softmode demo: ${(e as Error).message}\nusage: softmode demo [--model NAME] [--campaign-dir DIR]`);
    return 2;
  }
  const dir = campaignDirOf(str(a, 'campaign-dir') ?? '.campaigns/demo');
  let model = str(a, 'model');
  if (!model) {
    try {
      await loadModel('chgnet-0.3.0');
      model = 'chgnet-0.3.0';
    } catch (e) {
      model = 'lennard-jones';
      console.log(`demo: CHGNet is not available in this build (${(e as Error).message}); using the classical Lennard-Jones test potential — its labels are NOT physical.`);
    }
  }
  const structures = exampleStructures();
  const files = writeExamples(join(dir, 'examples'), structures);
  console.log(`demo: ${structures.length} example crystals written to ${join(dir, 'examples')} (${structures.map((s) => s.name).join(', ')})`);
  return runCampaign([
    ...files,
    '--model', model,
    '--supercell', str(a, 'supercell') ?? 'phononbench',
    '--preset', str(a, 'preset') ?? 'full-bz',
    '--campaign-dir', dir,
    '--name', `demo-${model}`,
  ]);
}
