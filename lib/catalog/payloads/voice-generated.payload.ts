import { IsEntityId, IsLanguageTag, IsMediaUrl, IsPositiveNumber } from './payload-fields.js';

/** Payload of `voice.generated`: a finished voice-over for a script. */
export class VoiceGeneratedPayload {
  /** Topic id issued by the Topic Engine. */
  @IsEntityId()
  readonly topicId!: string;

  /** Script id issued by the Script Engine. */
  @IsEntityId()
  readonly scriptId!: string;

  /** Voice-over id issued by the Voice Engine. */
  @IsEntityId()
  readonly voiceId!: string;

  /** Absolute http(s) URL of the audio file. */
  @IsMediaUrl()
  readonly audioUrl!: string;

  /** Length of the audio in seconds. */
  @IsPositiveNumber()
  readonly durationSeconds!: number;

  /** Spoken language as a BCP 47 tag, such as `en` or `en-US`. */
  @IsLanguageTag()
  readonly language!: string;
}
