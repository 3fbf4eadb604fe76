import { join } from 'node:path';
import ts from 'typescript';

/**
 * The property names of types exported by the package's public entry (src/index.ts), read with
 * the TypeScript compiler: `QSessionOptions` is what `qsession()` accepts, whatever module of
 * src/ declares it and however its validation is written.
 */
export function exportedTypeProperties(root: string, typeNames: readonly string[]): Map<string, string[]> {
  const entry = join(root, 'src/index.ts');
  const program = ts.createProgram([entry], {
    strict: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  const module = source && checker.getSymbolAtLocation(source);
  if (!module) throw new Error(`cannot read the exports of ${entry}`);
  const exports = new Map(checker.getExportsOfModule(module).map((symbol) => [symbol.getName(), symbol] as const));
  const found = new Map<string, string[]>();
  for (const name of typeNames) {
    let symbol = exports.get(name);
    if (!symbol) throw new Error(`src/index.ts exports no type named ${name}`);
    if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    const type = checker.getDeclaredTypeOfSymbol(symbol);
    found.set(name, checker.getPropertiesOfType(type).map((property) => property.getName()));
  }
  return found;
}
