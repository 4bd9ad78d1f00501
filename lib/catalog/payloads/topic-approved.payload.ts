import { IsChannelType, IsEntityId, IsMarketCodeList, IsNonNegativeNumber, IsRequiredText, IsTextList } from './payload-fields.js';

/** Payload of `topic.approved`: a topic the Script Engine should write a script for. */
export class TopicApprovedPayload {
  /** Topic id issued by the Topic Engine. */
  @IsEntityId()
  readonly topicId!: string;

  /** Working title of the video. */
  @IsRequiredText()
  readonly title!: string;

  /** Channel type in upper snake case, such as `INTELLECTUAL`. Open set, not an enum. */
  @IsChannelType()
  readonly channelType!: string;

  /** Content niche, such as `finance`. Analytics reports performance per niche. */
  @IsRequiredText()
  readonly niche!: string;

  /** Distinct upper-case ISO 3166-1 alpha-2 codes of the markets to publish in. */
  @IsMarketCodeList()
  readonly targetMarkets!: readonly string[];

  /** Estimated revenue per 1,000 ad impressions in US dollars (an estimate, not a measurement). */
  @IsNonNegativeNumber()
  readonly estimatedCPM!: number;

  /** Hook ideas for the first seconds of the video. May be empty. */
  @IsTextList()
  readonly hookIdeas!: readonly string[];
}
