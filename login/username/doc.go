// Package username turns what a user typed as a username into its canonical
// form and into a look-alike key, so that every account has exactly one
// spelling and no one can register a name that looks like someone else's.
//
// Normalize applies the PRECIS UsernameCaseMapped profile (RFC 8265 §3.3) and
// then the project's stricter rules: letters and decimal digits of a single
// script, plus '.', '_' and '-' between them, 3 to 32 characters. Skeleton
// maps a normalized name to a key that is equal for names that look alike;
// the account store keeps it unique next to the name itself.
package username
