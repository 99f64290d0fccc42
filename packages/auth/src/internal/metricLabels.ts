/** @internal */
import * as Metric from "effect/Metric"

/**
 * `metric` tagged with each value of `label` (a descriptor's label in `RefreshMetrics.descriptors`),
 * by value: the one list of values the exporter reports at 0 is the one the code can count under.
 */
export const byValue = <Type, In, Out, const V extends string>(
  metric: Metric.Metric<Type, In, Out>,
  label: { readonly name: string; readonly values: ReadonlyArray<V> }
): Readonly<Record<V, Metric.Metric<Type, In, Out>>> =>
  Object.fromEntries(label.values.map((value) => [value, Metric.tagged(metric, label.name, value)])) as Record<
    V,
    Metric.Metric<Type, In, Out>
  >
