/**
 * Field lists of the official Go SDK's models, kept here so a test can compare the simulator's answers
 * with them: huaweicloud/huaweicloud-sdk-go-v3 at commit 1cd70eb6f730ea721771a6ec8d96352bbb801787
 * (2026-03-13), the files named by `source`. Extracted mechanically from the struct tags: a field whose
 * json tag has `omitempty` is optional (`name?`), any other is required. Types: string, integer,
 * number, boolean, any, `X[]`, `map<X>`, or another model of the same list. Enum wrapper types
 * (e.g. ShowProtectionGroupParamsProtectedStatus) are the JSON type they marshal to.
 */
export interface GoModel {
  source: string;
  fields: Record<string, string>;
}

export const GO_SDK_COMMIT = "1cd70eb6f730ea721771a6ec8d96352bbb801787";

export const ECS_MODELS: Record<string, GoModel> = {
  ListServersDetailsResponse: {
    source: "services/ecs/v2/model/model_list_servers_details_response.go",
    fields: { "count?": "integer", "servers?": "ServerDetail[]" },
  },
  ServerDetail: {
    source: "services/ecs/v2/model/model_server_detail.go",
    fields: {
      status: "string",
      updated: "string",
      auto_terminate_time: "string",
      hostId: "string",
      "OS-EXT-SRV-ATTR:host": "string",
      addresses: "map<ServerAddress[]>",
      key_name: "string",
      image: "ServerImage",
      "OS-EXT-STS:task_state": "string",
      "OS-EXT-STS:vm_state": "string",
      "OS-EXT-SRV-ATTR:instance_name": "string",
      "OS-EXT-SRV-ATTR:hypervisor_hostname": "string",
      flavor: "ServerFlavor",
      id: "string",
      security_groups: "ServerSecurityGroup[]",
      "OS-EXT-AZ:availability_zone": "string",
      user_id: "string",
      name: "string",
      created: "string",
      tenant_id: "string",
      "OS-DCF:diskConfig?": "string",
      accessIPv4: "string",
      accessIPv6: "string",
      "fault?": "any",
      "progress?": "integer",
      "OS-EXT-STS:power_state": "integer",
      config_drive: "string",
      metadata: "map<string>",
      "OS-SRV-USG:launched_at": "string",
      "OS-SRV-USG:terminated_at": "string",
      "os-extended-volumes:volumes_attached": "ServerExtendVolumeAttachment[]",
      "description?": "string",
      host_status: "string",
      "OS-EXT-SRV-ATTR:hostname": "string",
      "OS-EXT-SRV-ATTR:reservation_id?": "string",
      "OS-EXT-SRV-ATTR:launch_index": "integer",
      "OS-EXT-SRV-ATTR:kernel_id": "string",
      "OS-EXT-SRV-ATTR:ramdisk_id": "string",
      "OS-EXT-SRV-ATTR:root_device_name": "string",
      "OS-EXT-SRV-ATTR:user_data?": "string",
      locked: "boolean",
      "tags?": "string[]",
      "os:scheduler_hints?": "ServerSchedulerHints",
      "enterprise_project_id?": "string",
      "sys_tags?": "ServerSystemTag[]",
      "cpu_options?": "CpuOptions",
      "security_options?": "SecurityOptions",
      "hypervisor?": "Hypervisor",
      "network_interfaces?": "NetworkInterfaces[]",
    },
  },
  ServerAddress: {
    source: "services/ecs/v2/model/model_server_address.go",
    fields: {
      version: "string",
      "primary?": "boolean",
      addr: "string",
      "OS-EXT-IPS:type?": "string",
      "OS-EXT-IPS-MAC:mac_addr?": "string",
      "OS-EXT-IPS:port_id?": "string",
    },
  },
  ServerImage: {
    source: "services/ecs/v2/model/model_server_image.go",
    fields: { id: "string" },
  },
  ServerFlavor: {
    source: "services/ecs/v2/model/model_server_flavor.go",
    fields: {
      id: "string",
      name: "string",
      disk: "string",
      vcpus: "string",
      ram: "string",
      gpus: "GpuInfo[]",
      asic_accelerators: "AsicAcceleratorInfo[]",
    },
  },
  GpuInfo: {
    source: "services/ecs/v2/model/model_gpu_info.go",
    fields: { "name?": "string", "count?": "integer", "memory_mb?": "integer" },
  },
  AsicAcceleratorInfo: {
    source: "services/ecs/v2/model/model_asic_accelerator_info.go",
    fields: { "name?": "string", "count?": "integer", "memory_mb?": "integer" },
  },
  ServerSecurityGroup: {
    source: "services/ecs/v2/model/model_server_security_group.go",
    fields: { name: "string", id: "string" },
  },
  ServerExtendVolumeAttachment: {
    source: "services/ecs/v2/model/model_server_extend_volume_attachment.go",
    fields: { id: "string", delete_on_termination: "string", "bootIndex?": "string", device: "string" },
  },
  ServerSchedulerHints: {
    source: "services/ecs/v2/model/model_server_scheduler_hints.go",
    fields: { "group?": "string[]", "tenancy?": "string[]", "dedicated_host_id?": "string[]" },
  },
  ServerSystemTag: {
    source: "services/ecs/v2/model/model_server_system_tag.go",
    fields: { "key?": "string", "value?": "string" },
  },
  CpuOptions: {
    source: "services/ecs/v2/model/model_cpu_options.go",
    fields: { "hw:cpu_threads?": "integer" },
  },
  SecurityOptions: {
    source: "services/ecs/v2/model/model_security_options.go",
    fields: { secure_boot_enabled: "boolean", tpm_enabled: "boolean" },
  },
  Hypervisor: {
    source: "services/ecs/v2/model/model_hypervisor.go",
    fields: { "hypervisor_type?": "string", "csd_hypervisor?": "string" },
  },
  NetworkInterfaces: {
    source: "services/ecs/v2/model/model_network_interfaces.go",
    fields: {
      "port_id?": "string",
      "primary?": "boolean",
      "ip_addresses?": "string[]",
      "ipv6_addresses?": "string[]",
      "subnet_id?": "string",
      "association?": "Association",
    },
  },
  Association: {
    source: "services/ecs/v2/model/model_association.go",
    fields: { "public_ip_address?": "string" },
  },
  ShowServerResponse: {
    source: "services/ecs/v2/model/model_show_server_response.go",
    fields: { "server?": "ServerDetail" },
  },
  ShowServerTagsResponse: {
    source: "services/ecs/v2/model/model_show_server_tags_response.go",
    fields: { "tags?": "ServerTag[]" },
  },
  ServerTag: {
    source: "services/ecs/v2/model/model_server_tag.go",
    fields: { key: "string", "value?": "string" },
  },
};

export const EVS_MODELS: Record<string, GoModel> = {
  ListVolumesResponse: {
    source: "services/evs/v2/model/model_list_volumes_response.go",
    fields: { "count?": "integer", "volumes_links?": "Link[]", "volumes?": "VolumeDetail[]" },
  },
  Link: {
    source: "services/evs/v2/model/model_link.go",
    fields: { "href?": "string", "rel?": "string" },
  },
  VolumeDetail: {
    source: "services/evs/v2/model/model_volume_detail.go",
    fields: {
      id: "string",
      links: "Link[]",
      name: "string",
      status: "string",
      attachments: "Attachment[]",
      availability_zone: "string",
      "os-vol-host-attr:host": "string",
      "source_volid?": "string",
      snapshot_id: "string",
      description: "string",
      created_at: "string",
      "os-vol-tenant-attr:tenant_id": "string",
      volume_image_metadata: "map<any>",
      volume_type: "string",
      size: "integer",
      "consistencygroup_id?": "string",
      bootable: "string",
      metadata: "map<any>",
      updated_at: "string",
      "encrypted?": "boolean",
      replication_status: "string",
      "os-volume-replication:extended_status": "string",
      "os-vol-mig-status-attr:migstat": "string",
      "os-vol-mig-status-attr:name_id": "string",
      shareable: "string",
      user_id: "string",
      service_type: "string",
      multiattach: "boolean",
      "dedicated_storage_id?": "string",
      "dedicated_storage_name?": "string",
      tags: "map<string>",
      "wwn?": "string",
      "enterprise_project_id?": "string",
      "serial_number?": "string",
      "iops?": "Iops",
      "throughput?": "Throughput",
    },
  },
  Attachment: {
    source: "services/evs/v2/model/model_attachment.go",
    fields: {
      attached_at: "string",
      attachment_id: "string",
      device: "string",
      host_name: "string",
      id: "string",
      server_id: "string",
      volume_id: "string",
    },
  },
  Iops: {
    source: "services/evs/v2/model/model_iops.go",
    fields: { frozened: "boolean", id: "string", total_val: "integer" },
  },
  Throughput: {
    source: "services/evs/v2/model/model_throughput.go",
    fields: { frozened: "boolean", id: "string", total_val: "integer" },
  },
};

export const SDRS_MODELS: Record<string, GoModel> = {
  ListProtectedInstancesResponse: {
    source: "services/sdrs/v1/model/model_list_protected_instances_response.go",
    fields: { "protected_instances?": "ShowProtectedInstanceParams[]", "count?": "integer" },
  },
  ShowProtectedInstanceParams: {
    source: "services/sdrs/v1/model/model_show_protected_instance_params.go",
    fields: {
      id: "string",
      name: "string",
      description: "string",
      status: "string",
      source_server: "string",
      target_server: "string",
      server_group_id: "string",
      created_at: "string",
      updated_at: "string",
      metadata: "MetadataParams",
      attachment: "ProtectedInstanceAttachment[]",
      "tags?": "ResourceTag[]",
      progress: "integer",
      priority_station: "string",
    },
  },
  MetadataParams: {
    source: "services/sdrs/v1/model/model_metadata_params.go",
    fields: { __system__frozen: "string" },
  },
  ProtectedInstanceAttachment: {
    source: "services/sdrs/v1/model/model_protected_instance_attachment.go",
    fields: { replication: "string", device: "string" },
  },
  ResourceTag: {
    source: "services/sdrs/v1/model/model_resource_tag.go",
    fields: { key: "string", value: "string" },
  },
  ShowProtectedInstanceResponse: {
    source: "services/sdrs/v1/model/model_show_protected_instance_response.go",
    fields: { "protected_instance?": "ShowProtectedInstanceParams" },
  },
  ListProtectionGroupsResponse: {
    source: "services/sdrs/v1/model/model_list_protection_groups_response.go",
    fields: { "server_groups?": "ShowProtectionGroupParams[]", "count?": "integer" },
  },
  ShowProtectionGroupParams: {
    source: "services/sdrs/v1/model/model_show_protection_group_params.go",
    fields: {
      id: "string",
      name: "string",
      description: "string",
      status: "string",
      progress: "integer",
      source_availability_zone: "string",
      target_availability_zone: "string",
      domain_id: "string",
      domain_name: "string",
      priority_station: "string",
      protected_instance_num: "integer",
      replication_num: "integer",
      disaster_recovery_drill_num: "integer",
      protected_status: "string",
      replication_status: "string",
      health_status: "string",
      source_vpc_id: "string",
      target_vpc_id: "string",
      test_vpc_id: "string",
      dr_type: "string",
      created_at: "string",
      updated_at: "string",
      protection_type: "string",
      replication_model: "string",
      server_type: "string",
    },
  },
  ShowProtectionGroupResponse: {
    source: "services/sdrs/v1/model/model_show_protection_group_response.go",
    fields: { "server_group?": "ShowProtectionGroupParams" },
  },
  ShowJobStatusResponse: {
    source: "services/sdrs/v1/model/model_show_job_status_response.go",
    fields: {
      "status?": "string",
      "entities?": "JobEntities",
      "job_id?": "string",
      "job_type?": "string",
      "begin_time?": "string",
      "end_time?": "string",
      "error_code?": "string",
      "fail_reason?": "string",
    },
  },
  JobEntities: {
    source: "services/sdrs/v1/model/model_job_entities.go",
    fields: {
      "replication_pair_id?": "string",
      "volume_ids?": "string",
      "server_group_id?": "string",
      "protected_instance_id?": "string",
      "native_server_id?": "string",
      "nic_id?": "string",
      "sub_jobs?": "SubJobParams[]",
    },
  },
  SubJobParams: {
    source: "services/sdrs/v1/model/model_sub_job_params.go",
    fields: {
      status: "string",
      entities: "SubJobEntities",
      job_id: "string",
      job_type: "string",
      begin_time: "string",
      end_time: "string",
      error_code: "string",
      fail_reason: "string",
    },
  },
  SubJobEntities: {
    source: "services/sdrs/v1/model/model_sub_job_entities.go",
    fields: {
      "replication_pair_id?": "string",
      "volume_ids?": "string",
      "server_group_id?": "string",
      "protected_instance_id?": "string",
      "native_server_id?": "string",
      "nic_id?": "string",
    },
  },
  ListActiveActiveDomainsResponse: {
    source: "services/sdrs/v1/model/model_list_active_active_domains_response.go",
    fields: { "domains?": "ShowActiveActiveDomainParams[]" },
  },
  ShowActiveActiveDomainParams: {
    source: "services/sdrs/v1/model/model_show_active_active_domain_params.go",
    fields: {
      id: "string",
      name: "string",
      description: "string",
      sold_out: "boolean",
      local_replication_cluster: "ReplicationClusterParams",
      remote_replication_cluster: "ReplicationClusterParams",
    },
  },
  ReplicationClusterParams: {
    source: "services/sdrs/v1/model/model_replication_cluster_params.go",
    fields: { availability_zone: "string" },
  },
  CreateProtectedInstanceResponse: {
    source: "services/sdrs/v1/model/model_create_protected_instance_response.go",
    fields: { "job_id?": "string" },
  },
};
