// Enrolment: a device asks the backend once for its own credential (POST /api/devices).
import * as v from 'valibot';
import { EnrollRequestSchema, EnrollResponseSchema, type EnrollResponse } from './protocol';

/** The backend will not enrol this device as asked (a wrong or missing code, a refused name): retrying cannot help. */
export class EnrolmentRefused extends Error {
  override name = 'EnrolmentRefused';
}

/** Enrolment could not be tried now (offline, the backend down or busy): worth retrying later. */
export class EnrolmentUnavailable extends Error {
  override name = 'EnrolmentUnavailable';
}

export const NEEDS_CODE =
  'This backend needs an enrolment code before this device can sync: enter the code from its operator in Settings → Enrolment code and press Apply. Every event is kept on this device until then.';

export async function enrol(enrollUrl: string, request: { name: string; code?: string }, fetchFn: typeof fetch = fetch): Promise<EnrollResponse> {
  const body = v.safeParse(EnrollRequestSchema, request);
  if (!body.success) throw new EnrolmentRefused(`This device cannot enrol: ${body.issues[0].message}. Change the device name in Settings.`);
  const where = new URL(enrollUrl).host;
  let res: Response;
  try {
    res = await fetchFn(enrollUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body.output), cache: 'no-store', credentials: 'omit' });
  } catch (err) {
    throw new EnrolmentUnavailable(`Cannot reach ${where} to enrol this device (${err instanceof Error ? err.message : String(err)}); retrying. Every event is kept on this device.`);
  }
  const reason = async () => {
    try {
      const j = (await res.json()) as { error?: unknown; message?: unknown };
      const text = typeof j.error === 'string' ? j.error : typeof j.message === 'string' ? j.message : '';
      return text ? `: ${text.slice(0, 200)}` : '';
    } catch {
      return '';
    }
  };
  if (res.status === 403) {
    throw new EnrolmentRefused(
      request.code
        ? `${where} refused to enrol this device: the enrolment code is wrong. Check it with the backend's operator, enter it in Settings → Enrolment code and press Apply. Every event is kept on this device.`
        : NEEDS_CODE,
    );
  }
  if (res.status === 429 || res.status >= 500) throw new EnrolmentUnavailable(`${where} cannot enrol this device now (HTTP ${res.status}${await reason()}); retrying. Every event is kept on this device.`);
  if (!res.ok) throw new EnrolmentRefused(`${where} refused to enrol this device (HTTP ${res.status}${await reason()}). Every event is kept on this device.`);
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    json = undefined;
  }
  const out = v.safeParse(EnrollResponseSchema, json);
  if (!out.success) throw new EnrolmentRefused(`${where} answered the enrolment with something that is not a device credential; is it a Framewise backend of this version?`);
  return out.output;
}

/** A name the operator can recognise in the device list, from what the browser says about itself. */
export function defaultDeviceName(nav: Navigator = navigator): string {
  const data = (nav as Navigator & { userAgentData?: { platform?: string; brands?: readonly { brand: string }[] } }).userAgentData;
  const platform = data?.platform || nav.platform || 'unknown platform';
  const brand =
    data?.brands?.map((b) => b.brand).find((b) => !/not.?a.?brand|chromium/i.test(b)) ??
    /(Edg|Firefox|Chrome|Safari)\//.exec(nav.userAgent)?.[1]?.replace('Edg', 'Edge') ??
    'browser';
  return `Framewise on ${platform} (${brand})`.slice(0, 80);
}
