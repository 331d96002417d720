// examples/custom-processor, as this repository builds it (the pipeline from its source).
import { exampleTests } from './example-tests';

exampleTests({ build: 'the example built from this repository', pagePath: '/examples/custom-processor/index.html', photo: (id) => `/.assets/coco/${id}.jpg` });
