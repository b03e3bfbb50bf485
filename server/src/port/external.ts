/**
 * What is special about external ports (mini-buildd's `port_ext`, §6.5): the .dsc comes from a URL,
 * and unless the person asking says otherwise its signature must verify — as `dget` (dscverify) does —
 * against the keys of the target distributions' base sources and the developer keyrings of their
 * origin installed on this host (for Debian those of the debian-keyring package).
 */
import type * as openpgp from 'openpgp';
import { DomainError } from '../graphql/errors.js';
import { keysFromKeyringFiles } from '../pgp/keyring-files.js';
import { clearsignedIssuers, SignatureError, verifyClearsigned, type VerifiedText } from '../pgp/verify.js';

/** The keyrings dscverify reads, per origin (the Release files' Origin). */
export const UPLOADER_KEYRINGS: Record<string, string[]> = {
  Debian: [
    '/usr/share/keyrings/debian-keyring.gpg',
    '/usr/share/keyrings/debian-nonupload.gpg',
    '/usr/share/keyrings/debian-maintainers.gpg',
  ],
};

/** The .dsc URL of an external port: http or https only (never a path on this host), naming a .dsc. */
export function checkDscUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new DomainError('BAD_USER_INPUT', `"${value}" is not a URL: give the http(s) URL of a .dsc`, {
      field: 'dscUrl',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new DomainError('BAD_USER_INPUT', `${url.protocol} URLs are not fetched: give the http(s) URL of a .dsc`, {
      field: 'dscUrl',
    });
  if (url.username || url.password)
    throw new DomainError('BAD_USER_INPUT', 'the .dsc URL must not carry a user name or password', {
      field: 'dscUrl',
    });
  if (!url.pathname.endsWith('.dsc'))
    throw new DomainError('DSC_INVALID', `${url.href} does not name a .dsc file`, { field: 'dscUrl' });
  return url;
}

/**
 * Verifies an external .dsc: at least one good signature by the base sources' keys or a key of the
 * origins' developer keyrings. Throws DomainError DSC_SIGNATURE, naming the signer and where it looked.
 */
export async function verifyExternalDsc(
  text: string,
  opts: { name: string; aptKeys: openpgp.PublicKey[]; keyringFiles: string[] },
): Promise<VerifiedText> {
  const issuers = await clearsignedIssuers(text);
  const keys = [...opts.aptKeys, ...(await keysFromKeyringFiles(opts.keyringFiles, issuers))];
  const looked = [...opts.keyringFiles, 'the base sources’ keys'].join(', ');
  try {
    return await verifyClearsigned(text, keys, { source: opts.name });
  } catch (err) {
    if (!(err instanceof SignatureError)) throw err;
    const by = issuers.length ? `signed by ${issuers.join(', ')}` : 'its signature names no key';
    const why =
      err.code === 'NOT_SIGNED'
        ? `${opts.name} is not signed`
        : err.code === 'NO_KEYS' || err.code === 'UNKNOWN_KEY'
          ? `${opts.name} is ${by}, a key in none of ${looked}`
          : err.message;
    throw new DomainError(
      'DSC_SIGNATURE',
      `${why}: port it with allowUnauthenticated (--allow-unauthenticated) only if you trust where it comes from`,
      { signature: err.code },
    );
  }
}
