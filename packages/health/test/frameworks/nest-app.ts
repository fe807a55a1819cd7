// A NestJS 11 app on the Express platform with the routes of the framework suite. Written without
// decorator syntax (this repo compiles without experimentalDecorators): Nest's decorators are
// applied as functions, which is what the compiler would emit.
import 'reflect-metadata';
import {
  Controller,
  Get,
  HttpCode,
  Module,
  Post,
  Query,
  Req,
  Sse,
  type DynamicModule,
  type INestApplication,
  type MessageEvent,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { interval, map, take, type Observable } from 'rxjs';
import type { Logger } from '@periscope/core';
import { sleep } from '../helpers';

type Decorator = MethodDecorator | ParameterDecorator;

/** Applies method decorators (and parameter decorators as [index, decorator]) to `Class.prototype[key]`. */
export function route(
  Class: { prototype: object },
  key: string,
  methods: Decorator[],
  params: [number, Decorator][] = [],
) {
  const proto = Class.prototype;
  for (const [index, d] of params) (d as ParameterDecorator)(proto, key, index);
  const descriptor = Object.getOwnPropertyDescriptor(proto, key)!;
  for (const d of methods.reverse()) (d as MethodDecorator)(proto, key, descriptor);
}

/** The suite's routes (see suite.ts), with `logger` for the correlated log lines. */
export function appModule(periscope: DynamicModule, logger: Logger, secret: string): new () => object {
  class TasksController {
    get(req: { params: { id: string } }) {
      return { id: req.params.id };
    }
    boom(): never {
      throw new Error(secret);
    }
    async work() {
      logger.info('work received');
      await sleep(20);
      logger.info('work done');
      return { ok: true };
    }
    sse(): Observable<MessageEvent> {
      return interval(100).pipe(
        take(3),
        map((i) => ({ data: String(i) })),
      );
    }
    async slow(ms: string) {
      await sleep(Number(ms));
      return 'done';
    }
  }
  Controller()(TasksController);
  route(TasksController, 'get', [Get('tasks/:id')], [[0, Req()]]);
  route(TasksController, 'boom', [Get('boom')]);
  route(TasksController, 'work', [Post('work'), HttpCode(200)]);
  route(TasksController, 'sse', [Sse('sse')]);
  route(TasksController, 'slow', [Get('slow')], [[0, Query('ms')]]);
  class AppModule {}
  Module({ imports: [periscope], controllers: [TasksController] })(AppModule);
  return AppModule;
}

/** Starts the app on a free loopback port. */
export async function startNest(module: new () => object): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create(module, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}` };
}
