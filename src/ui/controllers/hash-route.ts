import type { ReactiveController, ReactiveControllerHost } from 'lit';

/**
 * The page's place as `#key=value` parameters in the URL's fragment: a view can be reloaded,
 * bookmarked and gone back to. Only ever names (a session id), never a credential.
 */
export class HashRouteController implements ReactiveController {
  params = new URLSearchParams();
  private readonly onChange = () => {
    this.params = new URLSearchParams(location.hash.replace(/^#/, ''));
    this.host.requestUpdate();
  };

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostConnected(): void {
    window.addEventListener('hashchange', this.onChange);
    this.onChange();
  }

  hostDisconnected(): void {
    window.removeEventListener('hashchange', this.onChange);
  }

  get(key: string): string | undefined {
    return this.params.get(key) ?? undefined;
  }
}
