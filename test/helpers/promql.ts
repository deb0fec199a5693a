/** Reading PromQL and /metrics texts, for the tests of deploy/ (the dashboard, the alert rules). */

/** Identifiers of PromQL that are not metrics (label names after by/without are taken out first). */
const NOT_METRICS = new Set(['and', 'or', 'unless', 'offset', 'bool']);

/**
 * The metric names a PromQL expression reads: strings, label matchers, ranges and groupings taken
 * out, then every identifier that is not a function call or an operator.
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  // Not inside a number or a duration (`0.99`, `1h`).
  const names = [...bare.matchAll(/(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)]
    .filter((m) => m[2] === undefined && !NOT_METRICS.has(m[1]!))
    .map((m) => m[1]!);
  return [...new Set(names)];
}

/** Every series name a /metrics text declares (`# TYPE`), with a histogram's _bucket, _sum and _count. */
export function declared(text: string): Set<string> {
  const out = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    out.add(name!);
    if (type === 'histogram' || type === 'summary')
      for (const suffix of ['_bucket', '_sum', '_count']) out.add(`${name}${suffix}`);
  }
  return out;
}
