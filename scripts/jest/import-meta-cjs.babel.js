// Babel plugin for jest only. @babel/plugin-transform-modules-commonjs turns the ESM-only packages
// (Nest 12 and its ESM dependencies) into CommonJS for jest's module loader; `import.meta` would
// then be a syntax error, so it becomes what it means for that file: its URL, filename and
// dirname (literals: babel-jest's cache key includes the file's path), and resolve() through the
// CommonJS require.resolve.
'use strict';

const { pathToFileURL } = require('node:url');
const nodePath = require('node:path');

module.exports = function importMetaToCommonJs({ types: t, template }) {
  return {
    name: 'import-meta-to-commonjs',
    visitor: {
      Program(path) {
        // An ES module may declare its own `require` (terminus: `const require = createRequire(import.meta.url)`);
        // rename it first, so the `require` used below is CommonJS's, not that binding in its TDZ.
        if (path.scope.hasOwnBinding('require')) path.scope.rename('require', path.scope.generateUidIdentifier('require').name);
      },
      MetaProperty(path, state) {
        if (path.node.meta.name !== 'import' || path.node.property.name !== 'meta') return;
        const filename = state.filename;
        const values = {
          url: () => t.stringLiteral(pathToFileURL(filename).href),
          filename: () => t.stringLiteral(filename),
          dirname: () => t.stringLiteral(nodePath.dirname(filename)),
          resolve: () => template.expression.ast`((specifier) => require('node:url').pathToFileURL(require.resolve(specifier)).href)`,
        };
        const parent = path.parentPath;
        if (parent.isMemberExpression({ object: path.node }) && !parent.node.computed && values[parent.node.property.name]) {
          parent.replaceWith(values[parent.node.property.name]());
          return;
        }
        path.replaceWith(t.objectExpression(Object.entries(values).map(([key, value]) => t.objectProperty(t.identifier(key), value()))));
      },
    },
  };
};
