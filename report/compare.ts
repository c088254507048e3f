// The model comparison of a multi-model campaign (run --model a,b,…): per stability preset, for
// every pair of models, how many inputs both labelled (stable or unstable), how often they agree,
// the 2×2 confusion matrix and the inputs where they disagree with each model's lowest frequency.
// Used by `softmode compare` and by the report's model-agreement matrices.
import { STABILITY_PRESETS } from '../core/stability/index.js';
import { type CampaignSettings, modelNames } from '../pipeline/settings.js';
import type { CampaignRow, Store } from '../store/index.js';
import { type Disagreement, type PairLabelCount, modelDisagreements, modelPairLabelCounts } from '../store/compare-queries.js';

export interface PairComparison {
  a: string;
  b: string;
  /** inputs labelled stable or unstable under both models */
  n: number;
  agree: number;
  /** agree / n (null when n = 0) */
  agreement: number | null;
  /** confusion[i][j]: inputs with label i under a and j under b, i, j ∈ [stable, unstable] */
  confusion: [[number, number], [number, number]];
  /** inputs with a result under both where one label is neither stable nor unstable (relaxation failed, unclassified) */
  notBothLabelled: number;
  /** every disagreement (stable under one, unstable under the other), up to the limit asked */
  disagreements: { source: string; name: string | null; hash: string | null; formula: string | null; a: ModelSide; b: ModelSide }[];
  /** disagreements in all (confusion's off-diagonal), listed or not */
  disagreementsTotal: number;
  /** every label pair, including relaxation_failed / unclassified: counts[la][lb] */
  labelPairs: Record<string, Record<string, number>>;
}

export interface ModelSide {
  label: string;
  minFreqThz: number | null;
  where: string | null;
  q: number[] | null;
}

export interface PresetComparison {
  preset: string;
  pairs: PairComparison[];
}

export interface ModelComparison {
  campaign: string;
  campaignId: number;
  models: string[];
  /** the campaign's preset: the one whose sets min ν was taken over */
  campaignPreset: string;
  presets: PresetComparison[];
}

const LABELS = ['stable', 'unstable'] as const;

/** Assemble the comparison from the store's label-pair counts and disagreements (pure). */
export function assembleComparison(models: readonly string[], presets: readonly string[], counts: readonly PairLabelCount[], disagreements: readonly Disagreement[]): PresetComparison[] {
  const out: PresetComparison[] = [];
  for (const preset of presets) {
    const pairs: PairComparison[] = [];
    for (let ma = 0; ma < models.length; ma++)
      for (let mb = ma + 1; mb < models.length; mb++) {
        const rows = counts.filter((c) => c.preset === preset && c.ma === ma && c.mb === mb);
        const confusion: [[number, number], [number, number]] = [
          [0, 0],
          [0, 0],
        ];
        const labelPairs: Record<string, Record<string, number>> = {};
        let notBoth = 0;
        for (const r of rows) {
          (labelPairs[r.la] ??= {})[r.lb] = r.n;
          const i = LABELS.indexOf(r.la as (typeof LABELS)[number]);
          const j = LABELS.indexOf(r.lb as (typeof LABELS)[number]);
          if (i < 0 || j < 0) notBoth += r.n;
          else {
            const row = confusion[i]!;
            row[j] = (row[j] ?? 0) + r.n;
          }
        }
        const n = confusion[0][0] + confusion[0][1] + confusion[1][0] + confusion[1][1];
        const agree = confusion[0][0] + confusion[1][1];
        pairs.push({
          a: models[ma]!,
          b: models[mb]!,
          n,
          agree,
          agreement: n > 0 ? agree / n : null,
          confusion,
          notBothLabelled: notBoth,
          disagreements: disagreements
            .filter((d) => d.preset === preset && d.ma === ma && d.mb === mb)
            .map((d) => ({
              source: `${d.sourcePath}#${d.sourceIndex}`,
              name: d.name,
              hash: d.hash,
              formula: d.formula,
              a: { label: d.la, minFreqThz: d.minFreqA, where: d.whereA, q: d.qA },
              b: { label: d.lb, minFreqThz: d.minFreqB, where: d.whereB, q: d.qB },
            })),
          disagreementsTotal: confusion[0][1] + confusion[1][0],
          labelPairs,
        });
      }
    out.push({ preset, pairs });
  }
  return out;
}

/** The presets a campaign classified under (all of them are computed; the campaign's first). */
export function campaignPresets(c: CampaignRow): string[] {
  return [c.preset, ...STABILITY_PRESETS.filter((p) => p !== c.preset)];
}

/** The comparison of a campaign's models; null for a one-model campaign. */
export async function compareModels(store: Store, c: CampaignRow, o: { presets?: readonly string[]; limit?: number } = {}): Promise<ModelComparison | null> {
  const models = modelNames(c.config as unknown as CampaignSettings);
  if (models.length < 2) return null;
  const presets = o.presets ?? campaignPresets(c);
  const counts = await modelPairLabelCounts(store, c.id, presets);
  const dis = await modelDisagreements(store, c.id, presets, o.limit ?? 1_000_000);
  return { campaign: c.name, campaignId: c.id, models, campaignPreset: c.preset, presets: assembleComparison(models, presets, counts, dis) };
}
