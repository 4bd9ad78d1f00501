import { IsOptional } from 'class-validator';

import { IsChannelType, IsEntityId, IsLanguageTag, IsPositiveNumber } from './payload-fields.js';

/** Payload of `script.approved`: a script ready for voice-over and media production. */
export class ScriptApprovedPayload {
  /** Topic id issued by the Topic Engine. */
  @IsEntityId()
  readonly topicId!: string;

  /** Script id issued by the Script Engine. */
  @IsEntityId()
  readonly scriptId!: string;

  /** Channel type copied from `topic.approved`, in upper snake case. */
  @IsChannelType()
  readonly channelType!: string;

  /** Language of the script as a BCP 47 tag, such as `en` or `en-US`. */
  @IsLanguageTag()
  readonly language!: string;

  /** Estimated spoken length in seconds. */
  @IsOptional()
  @IsPositiveNumber()
  readonly durationSeconds?: number;
}
