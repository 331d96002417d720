import type { Task } from './types';

/** Tasks that ship with the app, doable with everyday objects. */
export const BUILTIN_TASKS: readonly Task[] = [
  {
    id: 'desk-setup',
    title: 'Set up your desk',
    description: 'Laptop, keyboard, mouse and a drink, where they belong.',
    steps: [
      { instruction: 'Put your laptop in view', require: [{ label: 'laptop' }], holdMs: 1000 },
      {
        instruction: 'Place the keyboard in front of (below) the laptop',
        require: [{ label: 'laptop' }, { label: 'keyboard' }],
        relations: [{ subject: 'keyboard', relation: 'below', object: 'laptop' }],
        holdMs: 1000,
      },
      {
        instruction: 'Put the mouse to the right of the keyboard',
        require: [{ label: 'keyboard' }, { label: 'mouse' }],
        relations: [{ subject: 'mouse', relation: 'right-of', object: 'keyboard' }],
        holdMs: 1000,
      },
      {
        instruction: 'Put the cup to the right of the laptop',
        require: [{ label: 'laptop' }, { label: 'cup' }],
        relations: [{ subject: 'cup', relation: 'right-of', object: 'laptop' }],
        holdMs: 1500,
      },
    ],
    derail: [{ kind: 'must-stay', label: 'laptop', maxAbsentMs: 2000, steps: [1, 2, 3] }],
  },
  {
    id: 'fruit-bowl',
    title: 'Fill the fruit bowl',
    description: 'A bowl, then fruit beside it.',
    steps: [
      { instruction: 'Put a bowl in the middle of the view', require: [{ label: 'bowl' }], relations: [{ subject: 'bowl', relation: 'inside', region: 'center' }], holdMs: 1000 },
      { instruction: 'Put an apple next to the bowl', require: [{ label: 'bowl' }, { label: 'apple' }], relations: [{ subject: 'apple', relation: 'near', object: 'bowl' }], holdMs: 1000 },
      { instruction: 'Add a banana next to the bowl', require: [{ label: 'bowl' }, { label: 'banana' }], relations: [{ subject: 'banana', relation: 'near', object: 'bowl' }], holdMs: 1000 },
    ],
    derail: [{ kind: 'must-stay', label: 'bowl', maxAbsentMs: 2000, steps: [1, 2] }],
  },
  {
    id: 'reading-corner',
    title: 'Make a reading corner',
    description: 'A chair, a book and nobody else’s phone.',
    steps: [
      { instruction: 'Show the chair you will sit on', require: [{ label: 'chair' }], holdMs: 1000 },
      { instruction: 'Put a book on the left of the view', require: [{ label: 'book' }], relations: [{ subject: 'book', relation: 'inside', region: 'left-half' }], holdMs: 1000 },
      { instruction: 'Sit down: a person on the chair', require: [{ label: 'person' }, { label: 'chair' }], relations: [{ subject: 'person', relation: 'near', object: 'chair' }], holdMs: 2000 },
    ],
    derail: [{ kind: 'forbidden', label: 'cell phone', minMs: 1000 }],
  },
  {
    id: 'bottle-station',
    title: 'Set up a refill station',
    description: 'Bottles counted, placed and cleared; a check by hand and a wait between.',
    steps: [
      { instruction: 'Put three bottles in view', require: [{ label: 'bottle', minCount: 3 }], holdMs: 1000 },
      { instruction: 'Take one bottle away: leave exactly two', require: [{ label: 'bottle', minCount: 2, maxCount: 2 }], holdMs: 1000 },
      { instruction: 'Stand a bottle in the left third of the view', require: [{ label: 'bottle', region: 'left-third' }], holdMs: 1000 },
      { kind: 'confirm', instruction: 'Screw the caps on tight by hand, then say next' },
      { kind: 'wait', instruction: 'Let the bottles stand', durationMs: 15_000 },
      { instruction: 'Take every bottle away', require: [{ label: 'bottle', maxCount: 0 }], holdMs: 1500 },
    ],
    // The bottles stay while they are counted, placed, checked and left to stand; the last step clears them.
    derail: [{ kind: 'must-stay', label: 'bottle', maxAbsentMs: 2000, steps: [1, 2, 3, 4] }],
  },
];
