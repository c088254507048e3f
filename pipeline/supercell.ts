// Supercell rules by name: what `--supercell` means everywhere (run, phonons, bench drivers).
// Without one, a stability preset's own policy applies (config/phonon.ts SUPERCELL_POLICY):
// PhononBench's 2×2×2 of the input cell for `phononbench`, the minimum-image rule otherwise.
import { PHONON_CONFIG, SUPERCELL_POLICY, type SupercellPolicyPreset } from '../config/phonon.js';
import { UsageError } from '../core/errors.js';
import type { SupercellRule } from '../core/structure/supercell.js';

export const SUPERCELL_SPEC_HELP = 'preset (the preset\'s policy, default) | phononbench | min-image[:L[:maxAtoms]] | min-length[:L[:maxAtoms]] | N | a,b,c';

/** The supercell rule a stability preset uses when none is asked for. */
export function presetSupercellRule(preset: string): SupercellRule {
  const p = SUPERCELL_POLICY[preset as SupercellPolicyPreset] as SupercellRule | undefined;
  if (!p) throw new UsageError(`no supercell policy for preset '${preset}' (${Object.keys(SUPERCELL_POLICY).filter((k) => k !== 'version').join(', ')})`);
  return { ...p } as SupercellRule;
}

/** `--supercell SPEC` (see SUPERCELL_SPEC_HELP); undefined or 'preset' → the preset's policy. */
export function supercellRuleOf(spec: string | undefined, preset: string): SupercellRule {
  if (spec === undefined || spec === 'preset') return presetSupercellRule(preset);
  if (spec === 'phononbench') return { kind: 'phononbench' };
  const policy = presetSupercellRule('full-bz');
  const cap = policy.kind === 'min-image' ? policy.maxAtoms : PHONON_CONFIG.maxSupercellAtoms;
  const mi = /^min-image(?::(\d+(?:\.\d+)?)(?::(\d+))?)?$/.exec(spec);
  if (mi)
    return {
      kind: 'min-image',
      minImageDistance: mi[1] ? Number(mi[1]) : policy.kind === 'min-image' ? policy.minImageDistance : PHONON_CONFIG.minSupercellLength,
      maxAtoms: mi[2] ? Number(mi[2]) : cap,
      ...(policy.kind === 'min-image' && policy.symmetricAtomFactor !== undefined ? { symmetricAtomFactor: policy.symmetricAtomFactor } : {}),
      // the memory guard stays whatever distance is asked for
      ...(policy.kind === 'min-image' && policy.maxBondTriplets !== undefined ? { maxBondTriplets: policy.maxBondTriplets, bondCutoff: policy.bondCutoff! } : {}),
    };
  const ml = /^min-length(?::(\d+(?:\.\d+)?)(?::(\d+))?)?$/.exec(spec);
  if (ml) return { kind: 'min-length', minLength: ml[1] ? Number(ml[1]) : PHONON_CONFIG.minSupercellLength, maxAtoms: ml[2] ? Number(ml[2]) : PHONON_CONFIG.maxSupercellAtoms };
  const parts = spec.trim().split(/[\s,x]+/).map(Number);
  if (parts.length === 1 && Number.isInteger(parts[0]) && parts[0]! > 0) {
    const n = parts[0]!;
    return { kind: 'explicit', matrix: [[n, 0, 0], [0, n, 0], [0, 0, n]] };
  }
  if (parts.length === 3 && parts.every((x) => Number.isInteger(x) && x > 0))
    return { kind: 'explicit', matrix: [[parts[0]!, 0, 0], [0, parts[1]!, 0], [0, 0, parts[2]!]] };
  throw new UsageError(`--supercell: expected ${SUPERCELL_SPEC_HELP} (got '${spec}')`);
}
