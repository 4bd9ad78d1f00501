import { IsEntityId, IsRequiredText, IsTextList } from './payload-fields.js';

/** Payload of `script.hook_flagged`: a script whose hook the Script Engine should revise. */
export class ScriptHookFlaggedPayload {
  /** Script id issued by the Script Engine. */
  @IsEntityId()
  readonly scriptId!: string;

  /** Topic id issued by the Topic Engine. */
  @IsEntityId()
  readonly topicId!: string;

  /** Reason the hook was flagged, readable by an editor. */
  @IsRequiredText()
  readonly reason!: string;

  /** Suggested hook rewrites. May be empty. */
  @IsTextList()
  readonly suggestions!: readonly string[];
}
