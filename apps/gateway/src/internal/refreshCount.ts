/**
 * How many refreshes an operation runs: the distinct response keys of `refreshToken` fields at the
 * root of the operation that executes, through fragment spreads and inline fragments (the executor
 * merges fields of one response key, so each key is one refresh). `@skip`/`@include` are ignored:
 * a field that might run is counted. Counts are cached per parsed operation (yoga caches parsed documents).
 *
 * @internal
 */
import type { DocumentNode, FragmentDefinitionNode, OperationDefinitionNode, SelectionSetNode } from "graphql"

/** The mutation field that calls DDN. */
export const refreshField = "refreshToken"

const cache = new WeakMap<OperationDefinitionNode, number>()

const operationOf = (document: DocumentNode, name: string | null | undefined): OperationDefinitionNode | undefined => {
  let found: OperationDefinitionNode | undefined
  for (const definition of document.definitions) {
    if (definition.kind !== "OperationDefinition") continue
    if (name == null) {
      if (found !== undefined) return undefined
      found = definition
    } else if (definition.name?.value === name) return definition
  }
  return found
}

const count = (document: DocumentNode, operation: OperationDefinitionNode): number => {
  if (operation.operation !== "mutation") return 0
  const fragments = new Map<string, FragmentDefinitionNode>()
  for (const definition of document.definitions) {
    if (definition.kind === "FragmentDefinition") fragments.set(definition.name.value, definition)
  }
  const keys = new Set<string>()
  const visited = new Set<string>()
  const walk = (selections: SelectionSetNode) => {
    for (const selection of selections.selections) {
      if (selection.kind === "Field") {
        if (selection.name.value === refreshField) keys.add(selection.alias?.value ?? selection.name.value)
      } else if (selection.kind === "InlineFragment") walk(selection.selectionSet)
      else if (!visited.has(selection.name.value)) {
        visited.add(selection.name.value)
        const fragment = fragments.get(selection.name.value)
        if (fragment !== undefined) walk(fragment.selectionSet)
      }
    }
  }
  walk(operation.selectionSet)
  return keys.size
}

/** The refreshes `document`'s operation `operationName` runs (0 for queries and unknown operations). */
export const refreshesIn = (document: DocumentNode, operationName: string | null | undefined): number => {
  const operation = operationOf(document, operationName)
  if (operation === undefined) return 0
  let refreshes = cache.get(operation)
  if (refreshes === undefined) {
    refreshes = count(document, operation)
    cache.set(operation, refreshes)
  }
  return refreshes
}
