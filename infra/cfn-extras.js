'use strict';

// A local osls plugin (serverless.yml `plugins`) for two things the framework's syntax cannot express.
//
// 1. The template's `Rules` section (assertions on parameter combinations, checked by CloudFormation
//    before it changes anything), copied from `custom.cfnRules`: osls's `resources` schema accepts
//    Resources, Outputs, Conditions, Parameters and Mappings, not Rules.
// 2. EventBridge Scheduler targets that give up like the function they invoke. osls writes no RetryPolicy
//    or DeadLetterConfig, and Scheduler's defaults retry a failed delivery 185 times over 24 hours. Each
//    schedule gets RetryPolicy.MaximumEventAgeInSeconds = its function's `maximumEventAge`,
//    RetryPolicy.MaximumRetryAttempts = `custom.schedulerRetryAttempts`, and DeadLetterConfig = its
//    function's `destinations.onFailure` queue.
//
// It runs after the custom resources are merged and before the template is saved, so `osls package` and
// `osls deploy` write the same template (tests/infra check the packaged one).

class UpstatCfnExtras {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'after:aws:package:finalize:mergeCustomProviderResources': () => this.extend(),
    };
  }

  extend() {
    const service = this.serverless.service;
    const template = service.provider.compiledCloudFormationTemplate;
    const custom = service.custom || {};
    if (custom.cfnRules) {
      template.Rules = custom.cfnRules;
    }
    const naming = this.serverless.getProvider('aws').naming;
    const schedules = Object.values(template.Resources).filter(
      (resource) => resource.Type === 'AWS::Scheduler::Schedule'
    );
    for (const name of service.getAllFunctions()) {
      const fn = service.getFunction(name);
      const reference = JSON.stringify(naming.getLambdaLogicalId(name));
      for (const schedule of schedules) {
        const target = schedule.Properties.Target;
        if (!JSON.stringify(target.Arn).includes(reference)) {
          continue;
        }
        if (!fn.maximumEventAge || !fn.destinations || !fn.destinations.onFailure) {
          throw new Error(
            `cfn-extras: scheduled function "${name}" needs maximumEventAge and destinations.onFailure`
          );
        }
        target.RetryPolicy = {
          MaximumEventAgeInSeconds: fn.maximumEventAge,
          MaximumRetryAttempts: custom.schedulerRetryAttempts || 0,
        };
        target.DeadLetterConfig = { Arn: fn.destinations.onFailure.arn };
      }
    }
  }
}

module.exports = UpstatCfnExtras;
