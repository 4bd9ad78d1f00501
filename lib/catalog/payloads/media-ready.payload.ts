import { IsEntityId, IsMediaUrl, IsPositiveNumber } from './payload-fields.js';

/** Payload of `media.ready`: a rendered video ready for localization. */
export class MediaReadyPayload {
  /** Topic id issued by the Topic Engine. */
  @IsEntityId()
  readonly topicId!: string;

  /** Script id issued by the Script Engine. */
  @IsEntityId()
  readonly scriptId!: string;

  /** Video id issued by the Media Engine. */
  @IsEntityId()
  readonly mediaId!: string;

  /** Absolute http(s) URL of the rendered video file. */
  @IsMediaUrl()
  readonly videoUrl!: string;

  /** Length of the video in seconds. */
  @IsPositiveNumber()
  readonly durationSeconds!: number;

  /** Id of the voice-over used in the video, from `voice.generated`. */
  @IsEntityId()
  readonly voiceId!: string;
}
