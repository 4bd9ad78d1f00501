import { IsOptional } from 'class-validator';

import { IsChannelType, IsEntityId, IsMarketCodeList, IsNonNegativeInteger, IsRequiredText, IsTextList } from './payload-fields.js';

/** Payload of `community.topic_exported`: a community topic suggestion sent to the Topic Engine. */
export class CommunityTopicExportedPayload {
  /** Suggestion id issued by the Community service. */
  @IsEntityId()
  readonly suggestionId!: string;

  /** Proposed video title. */
  @IsRequiredText()
  readonly title!: string;

  /** Content niche, such as `finance`. */
  @IsRequiredText()
  readonly niche!: string;

  /** Longer description of the idea written by the community member. */
  @IsOptional()
  @IsRequiredText()
  readonly description?: string;

  /** Proposed channel type in upper snake case. */
  @IsOptional()
  @IsChannelType()
  readonly channelType?: string;

  /** Distinct upper-case ISO 3166-1 alpha-2 codes of the proposed markets. */
  @IsOptional()
  @IsMarketCodeList()
  readonly targetMarkets?: readonly string[];

  /** Proposed hook ideas. */
  @IsOptional()
  @IsTextList()
  readonly hookIdeas?: readonly string[];

  /** Id of the community member who submitted the suggestion. */
  @IsEntityId()
  readonly submittedBy!: string;

  /** Number of community votes for the suggestion at export time. */
  @IsNonNegativeInteger()
  readonly votes!: number;
}
