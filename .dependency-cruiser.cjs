// Folders show where code runs and what depends on what: none may import another in a loop.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-folder-cycle', severity: 'error', scope: 'folder', comment: 'Folders import each other in a loop', from: {}, to: { circular: true } },
    { name: 'no-module-cycle', severity: 'error', comment: 'Modules import each other in a loop', from: {}, to: { circular: true } },
    {
      name: 'pipeline-public-surface',
      severity: 'error',
      comment: 'Outside packages/pipeline, the pipeline is used only through its package entries: @framewise/pipeline (page) and @framewise/pipeline/worker (workers)',
      from: { pathNot: '^packages/pipeline/' },
      to: { path: '^packages/pipeline/', pathNot: '^packages/pipeline/src/(index|worker/index)\\.ts$' },
    },
    {
      name: 'pipeline-by-package-name',
      severity: 'error',
      comment: 'The app, the example, the tests and the benchmark import the pipeline by its package name, as a stranger would, never by a relative path into packages/',
      from: { pathNot: '^packages/pipeline/' },
      to: { path: '^packages/pipeline/', dependencyTypesNot: ['aliased-workspace'] },
    },
    {
      name: 'pipeline-exports-only',
      severity: 'error',
      comment: 'Only the package\'s exports resolve: a path under @framewise/pipeline that is not one of them fails for a stranger, so it fails here too (the type-level test names two on purpose)',
      from: { pathNot: '^packages/pipeline/test/' },
      to: { couldNotResolve: true, path: '^@framewise/' },
    },
    {
      name: 'pipeline-knows-no-app',
      severity: 'error',
      comment: 'The pipeline is generic: it may use itself and libraries, nothing of the app (models, tasks, sync, UI) or its tests',
      from: { path: '^packages/pipeline/src/' },
      to: { pathNot: ['^packages/pipeline/', 'node_modules'] },
    },
    {
      name: 'no-test-support-in-product',
      severity: 'error',
      comment: 'Test support (test/, e2e/) is for tests, benchmarks and e2e: the app, the server and the pipeline package never import it',
      from: { path: '^(src|server|packages)/' },
      to: { path: '^(test|e2e)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    exclude: { path: ['\\.test\\.ts$', '^packages/[^/]+/dist/'] },
    // Resolve the workspace package as the app's bundler does: through its exports, to its source.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['source', 'import', 'types', 'default'] },
  },
};
