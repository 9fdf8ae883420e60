// Type-level test of the error codes in the types openapi-typescript generates
// (make check-samples runs tsc on it beside the samples). The catalog, ErrorCode,
// is a closed union that names every known code; the response field error_code
// is ErrorCode | string, so that a code added after the types were generated
// still type-checks. A client handles a code it does not know by its HTTP status.
import type { components } from "./smscode";

type ErrorCode = components["schemas"]["ErrorCode"];
type ErrorBody = components["schemas"]["Error"];

// A known code is an ErrorCode.
const known: ErrorCode = "USER.0038";
// An unknown one is not: tsc fails here if ErrorCode stops naming the codes
// (say, if it became a plain string).
// @ts-expect-error "NEW.0001" is not in the catalog.
const notKnown: ErrorCode = "NEW.0001";

// The response field takes both: a known code, and one added since.
const fromCatalog: ErrorBody = { error_code: known, error_msg: "Invalid mobile number." };
const added: ErrorBody = { error_code: "NEW.0001", error_msg: "x" };

// Code branches on the known codes, and goes by the HTTP status otherwise.
function describe(e: ErrorBody, status: number): string {
  switch (e.error_code) {
    case "SMS.0001":
      return "too frequent";
    case "USER.0038":
      return "invalid mobile";
    default:
      return status >= 500 ? "try later" : "rejected";
  }
}

export const checks = [notKnown, describe(fromCatalog, 400), describe(added, 400)];
