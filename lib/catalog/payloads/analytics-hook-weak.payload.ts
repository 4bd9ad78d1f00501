import { IsOptional } from 'class-validator';

import { IsEntityId, IsFraction, IsPositiveNumber } from './payload-fields.js';

/** Payload of `analytics.hook_weak`: a published video whose viewers leave during the hook. */
export class AnalyticsHookWeakPayload {
  /** Script id issued by the Script Engine. */
  @IsEntityId()
  readonly scriptId!: string;

  /** Topic id issued by the Topic Engine. */
  @IsEntityId()
  readonly topicId!: string;

  /** Video id issued by the Media Engine, when the measurement is for one video. */
  @IsOptional()
  @IsEntityId()
  readonly mediaId?: string;

  /** Share of viewers still watching at the end of the hook window, from 0 to 1. */
  @IsFraction()
  readonly retentionRate!: number;

  /** Retention rate below which Analytics reports the hook as weak, from 0 to 1. */
  @IsFraction()
  readonly threshold!: number;

  /** Length in seconds of the opening segment counted as the hook. */
  @IsPositiveNumber()
  readonly hookWindowSeconds!: number;
}
