/**
 * The AWS SDK v3 packages the adapters use, loaded on first use rather than at module load. A Lambda
 * bundle keeps `@aws-sdk/*` external (the nodejs24.x runtime provides it), and a static import of an
 * external is hoisted to the top of the bundle, so every function would pay for every client when it
 * starts. Through these loaders each function loads only the clients its code calls, when it first calls
 * them; Node caches the modules, so later calls cost nothing.
 */
export const dynamoDbSdk = () => import("@aws-sdk/client-dynamodb");
export const documentSdk = () => import("@aws-sdk/lib-dynamodb");
export const sqsSdk = () => import("@aws-sdk/client-sqs");
export const snsSdk = () => import("@aws-sdk/client-sns");
export const secretsManagerSdk = () => import("@aws-sdk/client-secrets-manager");
