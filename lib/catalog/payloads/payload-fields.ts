import {
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsInt,
  IsISO31661Alpha2,
  IsNotEmpty,
  IsNumber,
  IsPositive,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  ValidateBy,
} from 'class-validator';
import type { ValidationArguments } from 'class-validator';

// Property decorators shared by the payload classes, so that a topicId or a market
// code is checked the same way in every event.

/** Upper snake case, such as `INTELLECTUAL` or `KIDS_EDU`. */
export const CHANNEL_TYPE_PATTERN = /^[A-Z][A-Z0-9_]*$/;

/** Upper-case ISO 3166-1 alpha-2 shape. The code list itself is checked by `IsISO31661Alpha2`. */
export const MARKET_CODE_PATTERN = /^[A-Z]{2}$/;

/**
 * BCP 47 tag in canonical case, limited to language, optional script and optional
 * region: `en`, `en-US`, `zh-Hant-TW`, `es-419`.
 */
export const LANGUAGE_TAG_PATTERN = /^[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|[0-9]{3}))?$/;

/** Applies several property decorators as one, in the order given. */
function composeDecorators(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, propertyKey) => {
    for (const decorator of decorators) {
      decorator(target, propertyKey);
    }
  };
}

/** Requires an identifier issued by another service, which may be any non-empty string. */
export function IsEntityId(): PropertyDecorator {
  return composeDecorators(IsString(), IsNotEmpty());
}

/** Requires non-empty free text, such as a title or a reason. */
export function IsRequiredText(): PropertyDecorator {
  return composeDecorators(IsString(), IsNotEmpty());
}

/**
 * Requires a channel type in upper snake case. No list of known values is enforced,
 * so a team can add a channel type without a release of this package.
 */
export function IsChannelType(): PropertyDecorator {
  return composeDecorators(
    IsString(),
    IsNotEmpty(),
    Matches(CHANNEL_TYPE_PATTERN, {
      message: '$property must be upper snake case, such as INTELLECTUAL',
    }),
  );
}

/** Requires a BCP 47 language tag matching `LANGUAGE_TAG_PATTERN`. */
export function IsLanguageTag(): PropertyDecorator {
  return composeDecorators(
    IsString(),
    Matches(LANGUAGE_TAG_PATTERN, {
      message: '$property must be a BCP 47 language tag such as en or en-US',
    }),
  );
}

/**
 * Requires one market as an assigned ISO 3166-1 alpha-2 country code in upper case
 * (`GB`, not `UK`). The upper-case rule is extra because `IsISO31661Alpha2` also
 * accepts lower case.
 */
export function IsMarketCode(): PropertyDecorator {
  return composeDecorators(
    IsString(),
    Matches(MARKET_CODE_PATTERN, {
      message: '$property must be an upper-case ISO 3166-1 alpha-2 code such as US',
    }),
    IsISO31661Alpha2({ message: '$property must be an assigned ISO 3166-1 alpha-2 code' }),
  );
}

/** Requires a non-empty list of distinct markets, each checked like `IsMarketCode`. */
export function IsMarketCodeList(): PropertyDecorator {
  return composeDecorators(
    IsArray(),
    ArrayNotEmpty(),
    ArrayUnique(),
    IsString({ each: true }),
    Matches(MARKET_CODE_PATTERN, {
      each: true,
      message: 'each value in $property must be an upper-case ISO 3166-1 alpha-2 code such as US',
    }),
    IsISO31661Alpha2({
      each: true,
      message: 'each value in $property must be an assigned ISO 3166-1 alpha-2 code',
    }),
  );
}

/** Requires a list of non-empty strings. The list itself may be empty. */
export function IsTextList(): PropertyDecorator {
  return composeDecorators(IsArray(), IsString({ each: true }), IsNotEmpty({ each: true }));
}

/**
 * Requires an absolute http or https URL. Hosts without a top-level domain (`http://minio:9000/...`)
 * are allowed because services fetch media from storage inside the cluster.
 */
export function IsMediaUrl(): PropertyDecorator {
  return composeDecorators(IsString(), IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] }));
}

/** Requires a finite number greater than zero, such as a duration in seconds. */
export function IsPositiveNumber(): PropertyDecorator {
  return composeDecorators(IsNumber({ allowNaN: false, allowInfinity: false }), IsPositive());
}

/** Requires a finite number that is zero or more, such as a mean view count or a CPM. */
export function IsNonNegativeNumber(): PropertyDecorator {
  return composeDecorators(IsNumber({ allowNaN: false, allowInfinity: false }), Min(0));
}

/** Requires an integer that is zero or more, such as a vote count. */
export function IsNonNegativeInteger(): PropertyDecorator {
  return composeDecorators(IsInt(), Min(0));
}

/** Requires a ratio from 0 to 1 inclusive, such as a retention rate. */
export function IsFraction(): PropertyDecorator {
  return composeDecorators(IsNumber({ allowNaN: false, allowInfinity: false }), Min(0), Max(1));
}

/**
 * Requires a date-time later than the one in `startProperty`. Passes
 * when either value is not a parseable string, because `IsISO8601` on each field
 * reports that case.
 */
export function IsLaterThan(startProperty: string): PropertyDecorator {
  return ValidateBy({
    name: 'isLaterThan',
    constraints: [startProperty],
    validator: {
      validate(value: unknown, args?: ValidationArguments): boolean {
        const start = (args?.object as Record<string, unknown> | undefined)?.[startProperty];
        if (typeof value !== 'string' || typeof start !== 'string') {
          return true;
        }
        const endTime = Date.parse(value);
        const startTime = Date.parse(start);
        return Number.isNaN(endTime) || Number.isNaN(startTime) || endTime > startTime;
      },
      defaultMessage(): string {
        return `$property must be later than ${startProperty}`;
      },
    },
  });
}
