import { chooseClassNames, classNamesFromOnnx, defaultClassNames, type ClassNames } from '../model/class-names';
import { COCO_LABELS } from '../model/labels';
import type { ModelManifest } from '../model/manifest';
import { assertLooksLikeOnnx, loadModelBytes } from '../model/model-bytes';
import type { ModelSource } from '../shared/protocol';

/**
 * A person's model with its class names settled: the labels file they gave, else the names its
 * exporter wrote into the file, else COCO's (what a model that names nothing was always given).
 * The bytes are read here, on the page, so that the editor and the task check know the labels
 * before any worker starts; a URL's bytes go into the model cache, where the workers find them.
 */
export async function withClassNames(manifest: ModelManifest, source: ModelSource, labelsFile: ClassNames | undefined): Promise<ModelManifest> {
  const names = chooseClassNames(labelsFile, labelsFile ? undefined : await namesInModel(source), defaultClassNames(COCO_LABELS));
  return { ...manifest, labels: names.labels, labelsFrom: names.from };
}

async function namesInModel(source: ModelSource): Promise<ClassNames | undefined> {
  const name = 'url' in source ? source.url : source.fileName;
  const bytes = 'url' in source ? await loadModelBytes(new URL(source.url, document.baseURI).href) : source.bytes;
  assertLooksLikeOnnx(bytes, name);
  return classNamesFromOnnx(new Uint8Array(bytes), name);
}
