import 'reflect-metadata';

import { Type } from 'class-transformer';
import { IsISO8601, IsObject, ValidateNested } from 'class-validator';

import { IsFraction, IsLaterThan, IsNonNegativeInteger, IsNonNegativeNumber, IsRequiredText } from './payload-fields.js';

/** Performance figures of a set of videos over one measurement window. */
export class NicheMetrics {
  /** Number of published videos measured. */
  @IsNonNegativeInteger()
  readonly videoCount!: number;

  /** Mean views per video. */
  @IsNonNegativeNumber()
  readonly averageViews!: number;

  /** Mean share of viewers still watching at the end of the video, from 0 to 1. */
  @IsFraction()
  readonly averageRetentionRate!: number;

  /** Mean revenue per 1,000 ad impressions in US dollars. */
  @IsNonNegativeNumber()
  readonly averageCPM!: number;
}

/** Payload of `analytics.niche_underperforming`: a niche whose videos do worse than the baseline. */
export class AnalyticsNicheUnderperformingPayload {
  /** Content niche, with the same value as `niche` in `topic.approved`. */
  @IsRequiredText()
  readonly niche!: string;

  /** Start of the measurement window as an ISO 8601 date-time, such as `2025-01-01T00:00:00Z`. */
  @IsISO8601({ strict: true })
  readonly windowStart!: string;

  /** End of the measurement window as an ISO 8601 date-time, later than `windowStart`. */
  @IsISO8601({ strict: true })
  @IsLaterThan('windowStart')
  readonly windowEnd!: string;

  /** Figures for the videos of this niche in the window. */
  @IsObject()
  @ValidateNested()
  @Type(() => NicheMetrics)
  readonly observed!: NicheMetrics;

  /** Figures for all videos of the pipeline in the same window, used as the comparison. */
  @IsObject()
  @ValidateNested()
  @Type(() => NicheMetrics)
  readonly baseline!: NicheMetrics;
}
