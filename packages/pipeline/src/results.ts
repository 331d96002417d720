interface ResultBase<Role extends string> {
  /** The group that processed the frame. */
  readonly role: Role;
  readonly workerId: string;
  readonly seq: number;
  readonly captureTs: number;
  /** The source frame's size as the page read it: the coordinate space of anything the worker located. */
  readonly width: number;
  readonly height: number;
  /** Capture → dispatched, on the page clock. */
  readonly latencyMs: number;
}

/** One processed frame of one group: its processor's output, or why there is none. */
export type GroupResult<Role extends string, Output> =
  | (ResultBase<Role> & { readonly type: 'output'; readonly output: Output; readonly processMs: number })
  | (ResultBase<Role> & { readonly type: 'error'; readonly message: string });

/**
 * What the dispatcher hands out: immutable, one per processed frame. `Outputs` maps each
 * group's role to its processor's output, so checking `role` narrows `output`.
 */
export type PipelineResult<Outputs extends object = Record<string, unknown>> = {
  [Role in keyof Outputs & string]: GroupResult<Role, Outputs[Role]>;
}[keyof Outputs & string];
