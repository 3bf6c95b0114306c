// Schema helpers shared by every TypeBox schema: each enum is an `as const` list in core/types.ts and
// its schema is derived here, so its values are written once.
import { Type, type SchemaOptions, type TLiteral, type TUnion } from '@sinclair/typebox';

/** ['a', 'b'] → [TLiteral<'a'>, TLiteral<'b'>]: a precise tuple, so every TypeBox Static (also the API's) sees the values. */
type Literals<T extends readonly string[]> = T extends readonly [infer H extends string, ...infer R extends readonly string[]] ? [TLiteral<H>, ...Literals<R>] : [];

/** A union of string literals from an `as const` list; Static<> gives back the list's element type. */
export function literalUnion<const T extends readonly string[]>(values: T, options?: SchemaOptions): TUnion<Literals<T>> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as unknown as TUnion<Literals<T>>;
}
