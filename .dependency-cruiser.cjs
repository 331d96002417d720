// Folders show where code runs and what depends on what: none may import another in a loop.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-folder-cycle', severity: 'error', scope: 'folder', comment: 'Folders import each other in a loop', from: {}, to: { circular: true } },
    { name: 'no-module-cycle', severity: 'error', comment: 'Modules import each other in a loop', from: {}, to: { circular: true } },
    {
      name: 'pipeline-public-surface',
      severity: 'error',
      comment: 'Outside src/pipeline, the pipeline is used only through its public entries: src/pipeline/index.ts (page) and src/pipeline/worker/index.ts (workers)',
      from: { pathNot: '^src/pipeline/' },
      to: { path: '^src/pipeline/', pathNot: '^src/pipeline/(index|worker/index)\\.ts$' },
    },
    {
      name: 'pipeline-knows-no-app',
      severity: 'error',
      comment: 'The pipeline is generic: it may use the frame types and libraries, nothing of the app (models, tasks, sync, UI)',
      from: { path: '^src/pipeline/' },
      to: { pathNot: ['^src/pipeline/', '^src/frame/', 'node_modules'] },
    },
    {
      name: 'no-test-support-in-product',
      severity: 'error',
      comment: 'Test support (test/) is for tests, benchmarks and e2e: the app and the server never import it',
      from: { path: '^(src|server)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    exclude: { path: '\\.test\\.ts$' },
  },
};
