// Folders show where code runs and what depends on what: none may import another in a loop.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-folder-cycle', severity: 'error', scope: 'folder', comment: 'Folders import each other in a loop', from: {}, to: { circular: true } },
    { name: 'no-module-cycle', severity: 'error', comment: 'Modules import each other in a loop', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    exclude: { path: '\\.test\\.ts$' },
  },
};
