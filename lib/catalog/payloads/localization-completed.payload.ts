import 'reflect-metadata';

import { Type } from 'class-transformer';
import { ArrayNotEmpty, IsArray, IsInt, IsOptional, Min, ValidateNested } from 'class-validator';

import { IsEntityId, IsLanguageTag, IsMarketCode, IsMediaUrl } from './payload-fields.js';

/** Localized video for one market. */
export class LocalizedVideo {
  /** Market as an upper-case ISO 3166-1 alpha-2 code. */
  @IsMarketCode()
  readonly market!: string;

  /** Language of the localized audio and subtitles as a BCP 47 tag, such as `de-DE`. */
  @IsLanguageTag()
  readonly language!: string;

  /** Absolute http(s) URL of the localized video file. */
  @IsMediaUrl()
  readonly videoUrl!: string;

  /** Absolute http(s) URL of the subtitle file, when subtitles were produced. */
  @IsOptional()
  @IsMediaUrl()
  readonly subtitlesUrl?: string;
}

/** Payload of `localization.completed`: localized videos ready for review in the Admin UI. */
export class LocalizationCompletedPayload {
  /** Topic id issued by the Topic Engine. */
  @IsEntityId()
  readonly topicId!: string;

  /** Id of the source video issued by the Media Engine. */
  @IsEntityId()
  readonly mediaId!: string;

  /** Localization stage that finished, starting at 1 (the stage that `media.ready` starts). */
  @IsInt()
  @Min(1)
  readonly stage!: number;

  /** Localized videos, one per completed market. */
  @IsArray()
  @ArrayNotEmpty()
  @ValidateNested({ each: true })
  @Type(() => LocalizedVideo)
  readonly localizations!: readonly LocalizedVideo[];
}
